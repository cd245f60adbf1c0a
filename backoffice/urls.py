from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from backoffice import views
from backoffice.api import api

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("organisation/", include("backoffice.org.urls")),
    path("credit/", include("backoffice.credit.urls")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]
