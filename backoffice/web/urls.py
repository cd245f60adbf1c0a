from django.urls import path

from backoffice.web import views

app_name = "web"
urlpatterns = [
    path("settings/", views.settings_page, name="settings"),
    path("reports/", views.reports, name="reports"),
    path("lockouts/", views.lockouts, name="lockouts"),  # #13
]
