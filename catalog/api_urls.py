"""catalog's API routes, included under /api/v1/ by config/api_urls.py."""

from django.urls import path

from catalog import api

app_name = "catalog-api"
urlpatterns = [
    path("genres/", api.GenreList.as_view(), name="genres"),
    path("profiles/<int:profile_id>/titles/", api.TitleList.as_view(), name="titles"),
    path(
        "profiles/<int:profile_id>/titles/<int:title_id>/",
        api.TitleDetail.as_view(),
        name="title",
    ),
    path(
        "profiles/<int:profile_id>/collections/",
        api.CollectionList.as_view(),
        name="collections",
    ),
    path(
        "profiles/<int:profile_id>/collections/<int:collection_id>/",
        api.CollectionDetail.as_view(),
        name="collection",
    ),
]
