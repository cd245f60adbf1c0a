from django.urls import path

from backoffice.walls import views

app_name = "walls"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("restricted/", views.restricted, name="restricted"),
    path("projects/<slug:key>/", views.project_detail, name="project"),
    path("crossings/", views.crossings, name="crossings"),
    path("denials/", views.denials, name="denials"),
]
