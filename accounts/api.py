"""The account, its profiles and its access tokens as REST endpoints (``/api/v1/``).

Who may do what is :mod:`accounts.api_access`'s: reading needs a ``read``
grant; making or changing profiles, and everything about tokens, the
``account`` level (what the browser asks a kids profile for the account
password for). A grant tied to one profile (that profile's token, a kids
profile's session) sees and acts for that profile alone: the list of profiles
holds only it, and its tokens are the ones tied to it.

The writes are :mod:`accounts.services`', the same the account pages call.
Making a token is the one operation that also takes HTTP Basic with the
account password (a program's first step), and is throttled per account and
per client address (scopes ``token-create`` and ``token-create-ip``, shared
with the account page).
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, serializers, status
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from accounts import services
from accounts.api_access import (
    api_profile,
    grant_for,
    refuse_other_profile,
    require_level,
    require_whole_account,
)
from accounts.lockout import LockoutBasicAuthentication
from accounts.models import AccessToken, Profile
from accounts.throttle import (
    TOKEN_CREATE,
    TOKEN_CREATE_IP,
    by_account,
    by_ip,
    throttle_hit,
)
from config.api_fields import IntegerIdField

TAGS = ["accounts"]


def _service_error(error: DjangoValidationError) -> exceptions.ValidationError:
    """A service's refusal as a 400 naming the field (codes kept)."""
    return exceptions.ValidationError(serializers.as_serializer_error(error))


class _AccountProfileField(IntegerIdField):
    """An integer id of the account's own profiles; any other id is "does not
    exist", whoever's it is."""

    def get_queryset(self):
        return Profile.objects.filter(user=self.context["request"].user)


# --- the account ----------------------------------------------------------------


class AccountSerializer(serializers.Serializer):
    email = serializers.EmailField()
    date_joined = serializers.DateTimeField()
    profile_count = serializers.IntegerField(help_text="Profiles the account has.")
    max_profiles = serializers.IntegerField(help_text="The most it may have.")


class AccountView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="The account",
        description="The account signed in: its e-mail address, when it joined, "
        "and how many profiles it has of the most it may have.",
        responses=AccountSerializer,
    )
    def get(self, request) -> Response:
        user = request.user
        data = {
            "email": user.email,
            "date_joined": user.date_joined,
            "profile_count": user.profiles.count(),
            "max_profiles": Profile.MAX_PER_USER,
        }
        return Response(AccountSerializer(data).data)


# --- profiles -------------------------------------------------------------------

PROFILE_ERASURE_NOTE = (
    "A profile is deleted by erasing it, with everything it holds: "
    '`POST /api/v1/privacy/erase/` with `{"scope": "profile", "profile": <id>, '
    '"password": …}`.'
)


class ProfileSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    avatar_color = serializers.CharField(
        help_text="The avatar's colour, one of GET /api/v1/avatar-colors/."
    )
    is_kids = serializers.BooleanField(
        help_text="A kids profile sees only titles made for children."
    )
    created_at = serializers.DateTimeField()


class NewProfileSerializer(serializers.Serializer):
    name = serializers.CharField(
        max_length=Profile._meta.get_field("name").max_length,
        help_text="Unique within the account, ignoring case.",
    )
    avatar_color = serializers.ChoiceField(
        choices=Profile.AvatarColor.choices, default=Profile.AvatarColor.BLUE
    )
    is_kids = serializers.BooleanField(
        default=False,
        help_text="Shows only titles made for children; account pages and "
        "operations then need the account password or an account token.",
    )


class ProfileChangeSerializer(NewProfileSerializer):
    """Send only the fields that change."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, partial=True, **kwargs)
        for field in self.fields.values():
            field.required = False
            field.default = serializers.empty


class ProfilesView(generics.GenericAPIView):
    serializer_class = ProfileSerializer
    ordering = "id"

    def get_queryset(self):
        profiles = Profile.objects.filter(user=self.request.user)
        bound = grant_for(self.request).profile
        return profiles.filter(pk=bound.pk) if bound is not None else profiles

    @extend_schema(
        tags=TAGS,
        summary="The profiles",
        description="The profiles this token (or session) may act for: every "
        "profile of the account, or only the one it is tied to (a profile's "
        "token, a kids profile in the browser).",
        responses=ProfileSerializer(many=True),
    )
    def get(self, request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ProfileSerializer(page, many=True).data)

    @extend_schema(
        tags=TAGS,
        summary="Add a profile",
        description="Adds a profile, as the “Add profile” page does: needs full "
        "account access, not tied to a profile. At most 5 profiles "
        "(`profile_limit`); the name must be new to the account (a 400 on "
        "`name`).",
        request=NewProfileSerializer,
        responses={201: ProfileSerializer},
    )
    def post(self, request) -> Response:
        require_level(request, "account")
        require_whole_account(request)
        data = NewProfileSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            profile = services.profile_create(user=request.user, **data.validated_data)
        except DjangoValidationError as error:
            raise _service_error(error) from None
        return Response(ProfileSerializer(profile).data, status=status.HTTP_201_CREATED)


class ProfileView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="A profile",
        description="One profile of the account. " + PROFILE_ERASURE_NOTE,
        responses=ProfileSerializer,
    )
    def get(self, request, profile_id: int) -> Response:
        return Response(ProfileSerializer(api_profile(request, profile_id)).data)

    @extend_schema(
        tags=TAGS,
        summary="Change a profile",
        description="Renames a profile, changes its colour, or makes it a kids "
        "profile (or not), as its “Edit profile” page does: needs full account "
        "access. Send only what changes. " + PROFILE_ERASURE_NOTE,
        request=ProfileChangeSerializer,
        responses=ProfileSerializer,
    )
    def patch(self, request, profile_id: int) -> Response:
        profile = api_profile(request, profile_id, need="account")
        data = ProfileChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changes = {
            "name": profile.name,
            "avatar_color": profile.avatar_color,
            "is_kids": profile.is_kids,
            **data.validated_data,
        }
        try:
            profile = services.profile_update(profile=profile, **changes)
        except DjangoValidationError as error:
            raise _service_error(error) from None
        return Response(ProfileSerializer(profile).data)


class AvatarColorSerializer(serializers.Serializer):
    value = serializers.CharField(help_text="What a profile's avatar_color holds.")
    label = serializers.CharField()


class PaginatedAvatarColorListSerializer(serializers.Serializer):
    next = serializers.CharField(allow_null=True, help_text="Always null.")
    previous = serializers.CharField(allow_null=True, help_text="Always null.")
    results = AvatarColorSerializer(many=True)


class AvatarColorsView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Avatar colours",
        description="The colours a profile's avatar may have. One page, in the "
        "shape of every list.",
        responses=PaginatedAvatarColorListSerializer,
    )
    def get(self, request) -> Response:
        colors = [
            {"value": value, "label": label}
            for value, label in Profile.AvatarColor.choices
        ]
        return Response({"next": None, "previous": None, "results": colors})


# --- tokens ---------------------------------------------------------------------


class TokenSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    scope = serializers.ChoiceField(
        choices=AccessToken.Scope.choices,
        help_text="read: GET only; read-write: also a viewer's activity; "
        "account: also settings, exports, erasure, profiles and tokens.",
    )
    profile = serializers.IntegerField(
        source="profile_id",
        allow_null=True,
        help_text="The one profile it may act for; null: every profile.",
    )
    prefix = serializers.CharField(
        help_text="The secret's first characters, to tell tokens apart."
    )
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)
    last_used_at = serializers.DateTimeField(
        allow_null=True, help_text="To the minute."
    )
    revoked_at = serializers.DateTimeField(allow_null=True)
    active = serializers.BooleanField(
        source="is_active", help_text="Neither revoked nor expired."
    )


class TokenWithSecretSerializer(TokenSerializer):
    secret = serializers.CharField(
        help_text="The token itself, for `Authorization: Bearer …`. Shown only "
        "in this answer: keep it now."
    )


class NewTokenSerializer(serializers.Serializer):
    name = serializers.CharField(
        max_length=AccessToken._meta.get_field("name").max_length,
        help_text="Which program holds it (“Living-room TV”).",
    )
    scope = serializers.ChoiceField(
        choices=AccessToken.Scope.choices,
        default=AccessToken.Scope.READ_WRITE,
        help_text="A kids profile's token cannot have `account`.",
    )
    profile = _AccountProfileField(
        allow_null=True,
        required=False,
        help_text="Tie it to this profile; null: every profile. A token tied "
        "to a profile makes tokens for that profile only (the default).",
    )
    expires_at = serializers.DateTimeField(
        allow_null=True,
        default=None,
        help_text="When it stops working (in the future); null: never.",
    )


class _TokenCreateThrottle(BaseThrottle):
    """Counts token making (POST) under ``scope``, keyed by ``key(request)``:
    the same buckets as the account page's form."""

    scope: str

    def key(self, request) -> str | None:
        raise NotImplementedError

    def allow_request(self, request, view) -> bool:
        self._wait = None
        if request.method != "POST" or (ident := self.key(request)) is None:
            return True
        self._wait = throttle_hit(scope=self.scope, key=ident)
        return self._wait is None

    def wait(self) -> int | None:
        return self._wait


class TokenCreateThrottle(_TokenCreateThrottle):
    scope = TOKEN_CREATE

    def key(self, request) -> str | None:
        return by_account(request)


class TokenCreateIpThrottle(_TokenCreateThrottle):
    scope = TOKEN_CREATE_IP

    def key(self, request) -> str | None:
        return by_ip(request)


def _tokens(request):
    """The tokens this request may see: the account's, or those tied to the
    grant's profile."""
    tokens = AccessToken.objects.filter(user=request.user)
    bound = grant_for(request).profile
    return tokens.filter(profile=bound) if bound is not None else tokens


class TokensView(generics.GenericAPIView):
    access = "account"
    serializer_class = TokenSerializer
    ordering = "-id"
    throttle_classes = [TokenCreateThrottle, TokenCreateIpThrottle]

    def get_authenticators(self):
        """Making a token also takes the account password (HTTP Basic)."""
        authenticators = super().get_authenticators()
        if getattr(self, "request", None) is not None and self.request.method == "POST":
            authenticators.append(LockoutBasicAuthentication())
        return authenticators

    def get_queryset(self):
        return _tokens(self.request)

    @extend_schema(
        tags=TAGS,
        summary="The access tokens",
        description="The account's tokens, newest first, revoked and expired "
        "ones included (`active` false); never their secrets. A token tied to "
        "a profile sees the tokens tied to that profile. Needs full account "
        "access.",
        responses=TokenSerializer(many=True),
    )
    def get(self, request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(TokenSerializer(page, many=True).data)

    @extend_schema(
        tags=TAGS,
        summary="Make an access token",
        description="Makes a token and answers its `secret`, shown only this "
        "once. Sign in with an `account` token, the site's session, or the "
        "account's e-mail and password (HTTP Basic; the only operation that "
        "takes them: too many wrong passwords answer 429 `locked_out` with "
        "`Retry-After`). At most 20 working tokens (`token_limit`); throttled "
        "per account and per client address.",
        request=NewTokenSerializer,
        responses={201: TokenWithSecretSerializer},
    )
    def post(self, request) -> Response:
        data = NewTokenSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        if (bound := grant_for(request).profile) is not None:
            fields.setdefault("profile", bound)
            if fields["profile"] != bound:
                refuse_other_profile(bound)
        try:
            token, secret = services.token_create(user=request.user, **fields)
        except DjangoValidationError as error:
            raise _service_error(error) from None
        out = {**TokenSerializer(token).data, "secret": secret}
        return Response(out, status=status.HTTP_201_CREATED)


class TokenView(APIView):
    access = "account"

    def _token(self, request, token_id: int) -> AccessToken:
        token = get_object_or_404(AccessToken, pk=token_id, user=request.user)
        bound = grant_for(request).profile
        if bound is not None and token.profile_id != bound.pk:
            refuse_other_profile(bound)
        return token

    @extend_schema(
        tags=TAGS,
        summary="An access token",
        description="One of the account's tokens (never its secret).",
        responses=TokenSerializer,
    )
    def get(self, request, token_id: int) -> Response:
        return Response(TokenSerializer(self._token(request, token_id)).data)

    @extend_schema(
        tags=TAGS,
        summary="Revoke an access token",
        description="Stops the token working at once; it stays in the list, "
        "revoked. Revoking the token in use is allowed: its next request is "
        "a 401. Revoking a revoked token changes nothing.",
        responses={204: OpenApiResponse(description="Revoked.")},
    )
    def delete(self, request, token_id: int) -> Response:
        services.token_revoke(token=self._token(request, token_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
