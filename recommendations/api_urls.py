"""recommendations' API routes, included under /api/v1/ by config/api_urls.py."""

from django.urls import path

from recommendations import api

urlpatterns = [
    path(
        "profiles/<int:profile_id>/candidates/",
        api.ProfileCandidatesView.as_view(),
        name="profile-candidates",
    ),
]
