"""accounts's API routes, included under /api/v1/ by config/api_urls.py."""

from django.urls import path

from accounts import api

urlpatterns = [
    path("account/", api.AccountView.as_view(), name="account"),
    path("profiles/", api.ProfilesView.as_view(), name="profiles"),
    path("profiles/<int:profile_id>/", api.ProfileView.as_view(), name="profile"),
    path("avatar-colors/", api.AvatarColorsView.as_view(), name="avatar-colors"),
    path("tokens/", api.TokensView.as_view(), name="tokens"),
    path("tokens/<int:token_id>/", api.TokenView.as_view(), name="token"),
]
