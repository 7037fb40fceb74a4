from django.contrib import admin
from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.decorators.http import require_safe
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from recommendations.take_rate_admin import take_rate_view


def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    # Resolved per request: with hashed static names the manifest may not
    # exist yet when the URLs are loaded (before collectstatic).
    return HttpResponsePermanentRedirect(static("favicon.svg"))


urlpatterns = [
    # A staff page of the admin that belongs to no model (take rates).
    path(
        "admin/recommendations/take-rate/",
        admin.site.admin_view(require_safe(take_rate_view)),
        name="admin_take_rate",
    ),
    path("admin/", admin.site.urls),
    # Browsers ask for /favicon.ico on pages that name no icon (the API's JSON).
    path("favicon.ico", favicon),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="schema"),
        name="api-docs",
    ),
    path("api/v1/", include("config.api_urls")),
    path("", include("accounts.urls")),
    path("", include("catalog.urls")),
    path("", include("activity.urls")),
    path("", include("recommendations.urls")),
    path("", include("privacy.urls")),
]

# Django's own errors answer JSON under /api/ (config/api_errors.py).
handler400 = "config.api_errors.bad_request"
handler403 = "config.api_errors.permission_denied"
handler404 = "config.api_errors.page_not_found"
handler500 = "config.api_errors.server_error"
