from django.urls import path

from privacy import export_views, taste_views, views

app_name = "privacy"
urlpatterns = [
    path("privacy/", views.centre, name="centre"),
    # The home page's exploration and calibration controls are privacy settings.
    path("home/controls/", views.home_controls, name="home_controls"),
    path("home/rows-basis/", views.home_rows_basis, name="home_rows_basis"),
    # Deleting a profile is its erasure; the page sits with the profile pages.
    path(
        "profiles/<int:profile_id>/delete/",
        views.profile_delete,
        name="profile_delete",
    ),
    path("privacy/how-recommendations-work/", views.how_it_works, name="how_it_works"),
    path(
        "privacy/how-recommendations-work/changes/",
        views.changelog,
        name="changelog",
    ),
    path("privacy/consent-log/", views.consent_log, name="consent_log"),
    path("privacy/settings/toggle/", views.toggle, name="toggle"),
    path(
        "privacy/settings/leave-tests/",
        views.experiments_leave,
        name="experiments_leave",
    ),
    path(
        "privacy/settings/hidden-titles/<int:pk>/show/",
        views.hidden_title_show,
        name="hidden_title_show",
    ),
    path(
        "privacy/settings/fewer-like/<int:pk>/undo/",
        views.show_fewer_undo,
        name="show_fewer_undo",
    ),
    path("privacy/settings/retention/", views.retention, name="retention"),
    path("privacy/settings/region/", views.region, name="region"),
    path("privacy/settings/weather/", views.weather_today, name="weather_today"),
    path("privacy/settings/exploration/", views.exploration, name="exploration"),
    path("privacy/settings/hidden-genres/", views.hidden_genres, name="hidden_genres"),
    path("privacy/settings/taste/", taste_views.taste_levels, name="taste"),
    path("privacy/settings/taste/reset/", taste_views.taste_reset, name="taste_reset"),
    path("privacy/activity/", views.ledger, name="ledger"),
    path(
        "privacy/activity/<str:kind>/<int:pk>/delete/",
        views.ledger_delete,
        name="ledger_delete",
    ),
    # Erasing one item from the shelves (Ratings, History): the same service.
    path("privacy/erase/item/", views.erase_item, name="erase_item"),
    # Export and erasure (privacy/export_views.py).
    path("privacy/export/", export_views.export_page, name="export"),
    path(
        "privacy/export/<int:export_id>/",
        export_views.export_status,
        name="export_status",
    ),
    path(
        "privacy/export/<int:export_id>/download/",
        export_views.export_download,
        name="export_download",
    ),
    path("privacy/erase/", export_views.erase_page, name="erase"),
    path("privacy/erase/category/", export_views.erase_category, name="erase_category"),
    path("privacy/erase/profile/", export_views.erase_profile, name="erase_profile"),
    path("privacy/erase/account/", export_views.erase_account, name="erase_account"),
    path(
        "privacy/erase/receipt/<str:reference>/",
        export_views.erase_receipt,
        name="erase_receipt",
    ),
]
