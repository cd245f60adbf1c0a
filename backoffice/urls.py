from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import include, path

from backoffice import views
from backoffice.access.api import router as access_api
from backoffice.accounts.api import router as accounts_api
from backoffice.api import api, mount
from backoffice.audit.api import router as audit_api
from backoffice.cases.api import router as cases_api
from backoffice.credit.api import router as credit_api
from backoffice.identity import views as identity_views
from backoffice.jobs.api import router as jobs_api
from backoffice.masterdata.api import router as masterdata_api
from backoffice.notify.api import router as notify_api
from backoffice.readonly_admin import site as admin_site
from backoffice.trading.api import router as trading_api
from backoffice.walls.api import router as walls_api
from backoffice.web import views as web_views
from backoffice.web.api import router as search_api

mount(
    ("/", accounts_api),
    ("/", cases_api),
    ("/", audit_api),
    ("/credit/", credit_api),
    ("/", walls_api),  # #8 Chinese walls
    ("/", access_api),  # #6 access governance
    ("/trading/", trading_api),  # #17 trading and settlement
    ("/", masterdata_api),  # #16 master data and the retailer's work lists
    ("/", notify_api),  # #18 the event feed
    ("/", search_api),  # #19 the global search
    ("/", jobs_api),  # #19 long work with its progress
)

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("", web_views.home, name="home"),
    path("login/", web_views.BackofficeLoginView.as_view(), name="login"),
    path("logout/", identity_views.BackofficeLogoutView.as_view(), name="logout"),
    path("", include("backoffice.identity.urls")),  # #18 single sign-on, TOTP
    # #13: one's own password (audited); someone else's only by a link a user-admin case mails
    path("password/", web_views.OwnPasswordChangeView.as_view(), name="password_change"),
    path(
        "password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"
    ),
    path(
        "password/set/<uidb64>/<token>/",
        web_views.LinkPasswordSetView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/set/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("", include("backoffice.web.urls")),
    path("", include("backoffice.cases.urls")),
    path("organisation/", include("backoffice.org.urls")),
    path("audit/", include("backoffice.audit.urls")),
    path("jobs/", include("backoffice.jobs.urls")),  # #19 long work with its progress
    path("credit/", include("backoffice.credit.urls")),
    path("walls/", include("backoffice.walls.urls")),  # #8 Chinese walls
    path("access/", include("backoffice.access.urls")),  # #6 access governance
    path("trading/", include("backoffice.trading.urls")),  # #17 trading and settlement
    path("masterdata/", include("backoffice.masterdata.urls")),  # #16
    path("", include("backoffice.notify.urls")),  # #18 notification settings
    path("api/v1/", api.urls),
    path("scim/v2/", include("backoffice.scim.urls")),  # #18 provisioning (bearer token)
]

if settings.BACKOFFICE_ADMIN:  # #13: off unless the operator turns it on; read-only then
    urlpatterns.append(path("admin/", admin_site.urls))
