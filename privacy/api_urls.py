"""privacy's API routes, included under /api/v1/privacy/ by config/api_urls.py."""

from django.urls import path

from privacy import api

app_name = "privacy-api"
urlpatterns = [
    path(
        "profiles/<int:profile_id>/settings/",
        api.ProfileSettingsView.as_view(),
        name="profile-settings",
    ),
    path(
        "profiles/<int:profile_id>/activity/",
        api.ProfileLedgerView.as_view(),
        name="profile-activity",
    ),
    path("inventory/", api.InventoryView.as_view(), name="inventory"),
    path("consent-log/", api.ConsentLogView.as_view(), name="consent-log"),
    path("exports/", api.ExportListView.as_view(), name="exports"),
    path("exports/<int:export_id>/", api.ExportDetailView.as_view(), name="export"),
    path(
        "exports/<int:export_id>/download/",
        api.ExportDownloadView.as_view(),
        name="export-download",
    ),
    path("erase/", api.EraseView.as_view(), name="erase"),
]
