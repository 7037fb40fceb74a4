"""activity's API routes, included under /api/v1/ by config/api_urls.py."""

from django.urls import path

from activity import api

urlpatterns = [
    path(
        "profiles/<int:profile_id>/ratings/",
        api.ProfileRatings.as_view(),
        name="profile-ratings",
    ),
    path(
        "profiles/<int:profile_id>/feedback/",
        api.ProfileFeedback.as_view(),
        name="profile-feedback",
    ),
]
