from django.urls import path

from backoffice.access import views

app_name = "access"
urlpatterns = [
    path("mitigations/", views.mitigations, name="mitigations"),
    path("simulate/", views.simulate, name="simulate"),
    path("emergency/", views.emergency, name="emergency"),
    path("emergency/<int:session_id>/", views.emergency_session, name="emergency_session"),
    path("reviews/", views.reviews, name="reviews"),
    path("reviews/start/", views.review_start, name="review_start"),
    path("reviews/summary/", views.review_summary, name="review_summary"),
    path("reviews/<int:item_id>/decide/", views.review_decide, name="review_decide"),
    path("actual/", views.actual, name="actual"),
    path("risks/", views.risks, name="risks"),  # #19 the dashboard's access risks by level
]
