from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/v1/", include("config.api_urls")),
    path("", include("accounts.urls")),
    path("", include("catalog.urls")),
    path("", include("activity.urls")),
    path("", include("recommendations.urls")),
    path("", include("privacy.urls")),
]
