from django.urls import path

from backoffice.credit import views

app_name = "credit"
urlpatterns = [
    path("register/", views.register, name="register"),
    path("escalations/", views.escalations, name="escalations"),
    path("risk-report/", views.risk_report, name="risk_report"),
    path("reviews/", views.overdue_reviews, name="overdue_reviews"),
    path("borrowers/", views.borrowers, name="borrowers"),
    path("borrowers/<str:key>/", views.borrower_detail, name="borrower"),
]
