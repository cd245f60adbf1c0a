from django.urls import path

from backoffice.access import views

app_name = "access"
urlpatterns = [
    path("mitigations/", views.mitigations, name="mitigations"),
    path("simulate/", views.simulate, name="simulate"),
    path("emergency/", views.emergency, name="emergency"),
    path("emergency/<int:session_id>/", views.emergency_session, name="emergency_session"),
]
