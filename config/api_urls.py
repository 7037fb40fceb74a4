from django.urls import include, path

from activity import api as activity_api
from recommendations import api as recommendations_api

app_name = "api"
urlpatterns = [
    path(
        "profiles/<int:profile_id>/ratings/",
        activity_api.ProfileRatings.as_view(),
        name="profile-ratings",
    ),
    path(
        "profiles/<int:profile_id>/feedback/",
        activity_api.ProfileFeedback.as_view(),
        name="profile-feedback",
    ),
    path(
        "profiles/<int:profile_id>/candidates/",
        recommendations_api.ProfileCandidatesView.as_view(),
        name="profile-candidates",
    ),
    path("privacy/", include("privacy.api_urls")),
]
