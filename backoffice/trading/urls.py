from django.urls import path

from backoffice.trading import views

app_name = "trading"
urlpatterns = [
    path("", views.trades, name="trades"),
    path("trades/<int:trade_id>/", views.trade, name="trade"),
    path("reports/unconfirmed/", views.report, {"name": "unconfirmed"}, name="unconfirmed"),
    path("reports/off-market/", views.report, {"name": "off-market"}, name="off_market"),
    path("reports/corrections/", views.report, {"name": "corrections"}, name="corrections"),
    path("reports/late/", views.report, {"name": "late"}, name="late"),
]
