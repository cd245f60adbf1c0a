from django.urls import path

from backoffice.access import views

app_name = "access"
urlpatterns = [
    path("mitigations/", views.mitigations, name="mitigations"),
    path("simulate/", views.simulate, name="simulate"),
    path("actual/", views.actual, name="actual"),
]
