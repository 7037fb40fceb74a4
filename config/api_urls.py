"""``/api/v1/``: each app's API routes, one include per app.

Every route that takes a profile names it (``profiles/<int:profile_id>/…``)
and reaches it through :func:`accounts.api_access.api_profile`.
"""

from django.urls import include, path

app_name = "api"
urlpatterns = [
    path("", include("accounts.api_urls")),
    path("", include("catalog.api_urls")),
    path("", include("activity.api_urls")),
    path("", include("recommendations.api_urls")),
    path("privacy/", include("privacy.api_urls")),
]
