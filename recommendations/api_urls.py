"""recommendations' API routes, included under /api/v1/ by config/api_urls.py.

``profiles/<id>/titles/`` and ``profiles/<id>/titles/<id>/`` are catalog's;
the sub-paths of a title here are the recommender's.
"""

from django.urls import path

from recommendations import api

urlpatterns = [
    path(
        "profiles/<int:profile_id>/home/", api.HomeView.as_view(), name="profile-home"
    ),
    path(
        "profiles/<int:profile_id>/titles/<int:title_id>/why/",
        api.WhyView.as_view(),
        name="title-why",
    ),
    path(
        "profiles/<int:profile_id>/titles/<int:title_id>/more-like-this/",
        api.MoreLikeThisView.as_view(),
        name="title-more-like-this",
    ),
    path(
        "profiles/<int:profile_id>/excluded-seeds/",
        api.ExcludedSeedList.as_view(),
        name="profile-excluded-seeds",
    ),
    path(
        "profiles/<int:profile_id>/excluded-seeds/<int:title_id>/",
        api.ExcludedSeed.as_view(),
        name="profile-excluded-seed",
    ),
    path(
        "profiles/<int:profile_id>/onboarding/candidates/",
        api.OnboardingCandidatesView.as_view(),
        name="onboarding-candidates",
    ),
    path(
        "profiles/<int:profile_id>/candidates/",
        api.ProfileCandidatesView.as_view(),
        name="profile-candidates",
    ),
    path("model-versions/", api.ModelVersionList.as_view(), name="model-version-list"),
    path("model-versions/train/", api.ModelTrain.as_view(), name="model-version-train"),
    path(
        "model-versions/<int:version_id>/",
        api.ModelVersionDetail.as_view(),
        name="model-version-detail",
    ),
    path(
        "model-versions/<int:version_id>/promote/",
        api.ModelVersionPromote.as_view(),
        name="model-version-promote",
    ),
    path(
        "model-versions/<int:version_id>/rollback/",
        api.ModelVersionRollback.as_view(),
        name="model-version-rollback",
    ),
]
