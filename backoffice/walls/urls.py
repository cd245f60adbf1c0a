from django.urls import path

from backoffice.walls import pad_views, views

app_name = "walls"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("restricted/", views.restricted, name="restricted"),
    path("projects/<slug:key>/", views.project_detail, name="project"),
    path("crossings/", views.crossings, name="crossings"),
    path("denials/", views.denials, name="denials"),
    # #17 research fact checks, personal account dealing
    path("research/", pad_views.research_drafts_page, name="research"),
    path("pad/", pad_views.my_orders, name="pad"),
    path("pad/orders/", pad_views.all_orders, name="pad_all"),
    path("pad/attestations/", pad_views.attestations, name="pad_attestations"),
]
