from django.urls import path

from backoffice.masterdata import queries, views

app_name = "masterdata"
urlpatterns = [
    *(
        path(f"{kind}/", views.master_data, {"kind": kind}, name=kind)
        for kind in queries.MASTER_KINDS
    ),
    *(
        path(f"reports/{name}/", views.report, {"name": name}, name=f"report-{name}")
        for name in queries.REPORTS
    ),
]
