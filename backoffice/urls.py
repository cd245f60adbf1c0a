from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from backoffice import views
from backoffice.api import api
from backoffice.web import views as web_views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("", web_views.home, name="home"),
    path("login/", web_views.BackofficeLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/",
        auth_views.PasswordChangeView.as_view(success_url="/password/done/"),
        name="password_change",
    ),
    path(
        "password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"
    ),
    path("", include("backoffice.web.urls")),
    path("", include("backoffice.cases.urls")),
    path("organisation/", include("backoffice.org.urls")),
    path("audit/", include("backoffice.audit.urls")),
    path("credit/", include("backoffice.credit.urls")),
    path("walls/", include("backoffice.walls.urls")),  # #8 Chinese walls
    path("access/", include("backoffice.access.urls")),  # #6 access governance
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]
