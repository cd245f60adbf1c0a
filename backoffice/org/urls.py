from django.urls import path

from backoffice.org import views

app_name = "org"
urlpatterns = [
    path("", views.organisation, name="organisation"),
    path("people/", views.people, name="people"),  # #19 the person picker
]
