from django.urls import path

from backoffice.notify import views

app_name = "notify"
urlpatterns = [
    path("settings/notifications/", views.notification_settings, name="settings"),
    path("demo/mail/", views.sent_mails, name="mails"),  # #18: only with `demo --with-mail`
]
