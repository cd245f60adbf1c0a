from django.urls import path

from backoffice.identity import views

urlpatterns = [
    path("oidc/authenticate/", views.SignOnStart.as_view(), name="oidc_authentication_init"),
    path("oidc/callback/", views.SignOnCallback.as_view(), name="oidc_authentication_callback"),
    path("login/totp/", views.totp_login, name="totp_login"),
    path("settings/totp/", views.totp_enrol, name="totp_enrol"),
]
