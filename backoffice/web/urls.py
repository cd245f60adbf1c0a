from django.urls import path

from backoffice.web import views

app_name = "web"
urlpatterns = [
    path("settings/", views.settings_page, name="settings"),
    path("settings/tokens/", views.token_create, name="token_create"),
    path("settings/tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
    path("settings/roles/<slug:role>/activate/", views.role_activate, name="role_activate"),
    path("settings/roles/<slug:role>/deactivate/", views.role_deactivate, name="role_deactivate"),
    path("search/", views.search, name="search"),  # #19 the global search
    path("reports/", views.reports, name="reports"),
    path("lockouts/", views.lockouts, name="lockouts"),  # #13
]
