from django.urls import path

from backoffice.audit import views

app_name = "audit"
urlpatterns = [
    path("", views.audit_log, name="log"),
    path("verify/", views.audit_verify, name="verify"),
    path("export/", views.audit_export, name="export"),
]
