from django.urls import path

from backoffice.cases import views

app_name = "cases"
urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("cases/", views.case_list, name="list"),
    path("cases/new/", views.process_choose, name="choose"),
    path("cases/new/<slug:key>/", views.case_start, name="start"),
    path("cases/<int:pk>/", views.case_detail, name="detail"),
    path("cases/<int:pk>/act/", views.case_act, name="act"),
    path("cases/<int:pk>/edit/", views.case_edit, name="edit"),
    path("delegations/", views.delegations, name="delegations"),
]
