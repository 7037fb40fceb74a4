"""activity's API routes, included under /api/v1/ by config/api_urls.py.

Every route is a profile's (``profiles/<int:profile_id>/…``); the views reach
the profile through :func:`accounts.api_access.api_profile`.
"""

from django.urls import path

from activity import api

PROFILE = "profiles/<int:profile_id>/"

urlpatterns = [
    path(f"{PROFILE}ratings/", api.ProfileRatings.as_view(), name="profile-ratings"),
    path(
        f"{PROFILE}ratings/<int:rating_id>/",
        api.ProfileRating.as_view(),
        name="profile-rating",
    ),
    path(f"{PROFILE}feedback/", api.ProfileFeedback.as_view(), name="profile-feedback"),
    path(
        f"{PROFILE}feedback/<int:feedback_id>/",
        api.ProfileFeedbackItem.as_view(),
        name="profile-feedback-item",
    ),
    path(f"{PROFILE}my-list/", api.ProfileMyList.as_view(), name="profile-my-list"),
    path(
        f"{PROFILE}my-list/<int:item_id>/",
        api.ProfileMyListItem.as_view(),
        name="profile-my-list-item",
    ),
    path(f"{PROFILE}viewings/", api.ProfileViewings.as_view(), name="profile-viewings"),
    path(
        f"{PROFILE}viewings/<int:viewing_id>/",
        api.ProfileViewing.as_view(),
        name="profile-viewing",
    ),
    path(
        f"{PROFILE}viewings/<int:viewing_id>/finish/",
        api.ProfileViewingFinish.as_view(),
        name="profile-viewing-finish",
    ),
    path(
        f"{PROFILE}continue-watching/",
        api.ProfileContinueWatching.as_view(),
        name="profile-continue-watching",
    ),
    path(
        f"{PROFILE}continue-watching/<int:title_id>/",
        api.ProfileContinueWatchingTitle.as_view(),
        name="profile-continue-watching-title",
    ),
    path(f"{PROFILE}history/", api.ProfileHistory.as_view(), name="profile-history"),
]
