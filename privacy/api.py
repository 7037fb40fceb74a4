"""The privacy centre's operations as REST endpoints (``/api/v1/privacy/``).

Owner-only: another person's profile or export answers 404. Throttled per
account (scope ``privacy``, 60 a minute; asking for an export also
``privacy-export``, 3 a day, on top of the service's own rule); rates can be
set in ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]``.
"""

from django.contrib.auth import authenticate, logout
from django.core.exceptions import ObjectDoesNotExist
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from accounts.access import access_profile
from catalog.models import Genre
from consent.models import PrivacySettings
from consent.policy import settings_for
from privacy import registry, services
from privacy.export_views import export_file_response
from privacy.models import DataExport
from privacy.selectors import inventory

# --- throttles --------------------------------------------------------------------


class _PrivacyThrottle(UserRateThrottle):
    """Per account; the rate from settings when set there, else the default."""

    DEFAULT_RATES = {"privacy": "60/min", "privacy-export": "3/day"}

    def get_rate(self) -> str:
        rates = api_settings.DEFAULT_THROTTLE_RATES or {}
        return rates.get(self.scope) or self.DEFAULT_RATES[self.scope]


class PrivacyThrottle(_PrivacyThrottle):
    scope = "privacy"


class ExportThrottle(_PrivacyThrottle):
    scope = "privacy-export"


class _PrivacyView(APIView):
    throttle_classes = [PrivacyThrottle]


# --- settings ---------------------------------------------------------------------


class SettingsSerializer(serializers.Serializer):
    personalization = serializers.BooleanField(required=False)
    pause_viewing_history = serializers.BooleanField(required=False)
    pause_search_history = serializers.BooleanField(required=False)
    contextual_signals = serializers.BooleanField(required=False)
    retention_months = serializers.ChoiceField(
        choices=PrivacySettings.Retention.choices,
        required=False,
        help_text="Delete activity older than this many months; 0 keeps it.",
    )
    exploration = serializers.IntegerField(
        min_value=0, max_value=PrivacySettings.EXPLORATION_MAX, required=False
    )
    calibration = serializers.BooleanField(required=False)
    allow_training = serializers.BooleanField(
        required=False,
        help_text="Use this profile's activity to improve recommendations for others.",
    )
    hidden_genres = serializers.PrimaryKeyRelatedField(
        queryset=Genre.objects.all(),
        many=True,
        required=False,
        help_text="Ids of genres never recommended (replaces the whole set).",
    )
    updated_at = serializers.DateTimeField(read_only=True, allow_null=True)


def _settings_out(profile) -> dict:
    settings = settings_for(profile)
    data = {field: getattr(settings, field) for field in services.SETTING_FIELDS}
    data["allow_training"] = profile.allow_training
    data["hidden_genres"] = (
        [] if settings._state.adding else list(settings.hidden_genres.order_by("pk"))
    )
    data["updated_at"] = None if settings._state.adding else settings.updated_at
    return data


class ProfileSettingsView(_PrivacyView):
    """One of your profiles' privacy and personalization settings."""

    @extend_schema(responses=SettingsSerializer)
    def get(self, request, profile_id: int) -> Response:
        profile = access_profile(request.user, profile_id)
        return Response(SettingsSerializer(_settings_out(profile)).data)

    @extend_schema(request=SettingsSerializer, responses=SettingsSerializer)
    def patch(self, request, profile_id: int) -> Response:
        """Changes some settings; each change is logged in the consent log.

        Setting or shortening ``retention_months`` deletes the older activity
        at once.
        """
        profile = access_profile(request.user, profile_id)
        data = SettingsSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        hidden = changes.pop("hidden_genres", None)
        if changes:
            services.privacy_settings_update(profile=profile, **changes)
        if hidden is not None:
            services.hidden_genres_replace(profile=profile, genres=hidden)
        profile.refresh_from_db()
        return Response(SettingsSerializer(_settings_out(profile)).data)


# --- inventory --------------------------------------------------------------------


class HoldingSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()
    first = serializers.DateTimeField(allow_null=True)
    last = serializers.DateTimeField(allow_null=True)
    note = serializers.CharField()


class ProfileInventorySerializer(serializers.Serializer):
    id = serializers.IntegerField(source="profile.pk")
    name = serializers.CharField(source="profile.name")
    is_kids = serializers.BooleanField(source="profile.is_kids")
    holdings = HoldingSerializer(many=True)
    hidden_genres = serializers.IntegerField(source="hidden_genre_count")
    candidates = serializers.IntegerField(source="candidate_count")


class InventorySerializer(serializers.Serializer):
    account = HoldingSerializer(many=True)
    profiles = ProfileInventorySerializer(many=True)


class InventoryView(_PrivacyView):
    """Every kind of data held for your account and each profile: counts and dates."""

    @extend_schema(responses=InventorySerializer)
    def get(self, request) -> Response:
        return Response(InventorySerializer(inventory(request.user)).data)


# --- exports ----------------------------------------------------------------------


class ExportSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = DataExport
        fields = [
            "id",
            "status",
            "progress",
            "size",
            "row_counts",
            "error",
            "created_at",
            "finished_at",
            "expires_at",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, export: DataExport) -> str | None:
        if export.status != DataExport.Status.READY:
            return None
        return self.context["request"].build_absolute_uri(
            reverse("api:privacy-api:export-download", args=[export.pk])
        )


class ExportListView(_PrivacyView):
    """Your data exports; POST asks for a new one (built in the background)."""

    def get_throttles(self):
        throttles = super().get_throttles()
        if self.request.method == "POST":
            throttles.append(ExportThrottle())
        return throttles

    @extend_schema(responses=ExportSerializer(many=True))
    def get(self, request) -> Response:
        exports = DataExport.objects.filter(user=request.user)[:50]
        return Response(
            ExportSerializer(exports, many=True, context={"request": request}).data
        )

    @extend_schema(
        request=None,
        responses={
            202: ExportSerializer,
            429: OpenApiResponse(description="Already 3 exports within a day."),
        },
    )
    def post(self, request) -> Response:
        """Asks for a zip of everything held; poll the export until it is ready.

        An export already waiting or building is answered instead of a new one.
        """
        try:
            export = services.data_export_request(user=request.user)
        except services.ExportLimitReached as refused:
            return Response(
                {"detail": str(refused), "retry_at": refused.retry_at},
                status=status.HTTP_429_TOO_MANY_REQUESTS,
            )
        return Response(
            ExportSerializer(export, context={"request": request}).data,
            status=status.HTTP_202_ACCEPTED,
        )


class ExportDetailView(_PrivacyView):
    """One of your exports: status, progress and, when ready, its download link."""

    @extend_schema(responses=ExportSerializer)
    def get(self, request, export_id: int) -> Response:
        export = get_object_or_404(DataExport, pk=export_id, user=request.user)
        return Response(ExportSerializer(export, context={"request": request}).data)


class ExportDownloadView(_PrivacyView):
    """The export's zip, until it expires (then 404)."""

    @extend_schema(
        responses={
            (200, "application/zip"): OpenApiTypes.BINARY,
            404: OpenApiResponse(description="Not yours, not ready, or expired."),
        }
    )
    def get(self, request, export_id: int) -> FileResponse:
        return export_file_response(user=request.user, export_id=export_id)


# --- erasure ----------------------------------------------------------------------


class EraseIn(serializers.Serializer):
    SCOPES = ("item", "category", "profile", "account")

    scope = serializers.ChoiceField(choices=SCOPES)
    profile = serializers.IntegerField(
        required=False, help_text="The profile (item, category and profile scopes)."
    )
    kind = serializers.ChoiceField(
        choices=list(registry.ITEMS),
        required=False,
        help_text="What the item is (item scope), as the ledger names it.",
    )
    item = serializers.IntegerField(required=False, help_text="Its id (item scope).")
    category = serializers.ChoiceField(
        choices=list(registry.CATEGORIES),
        required=False,
        help_text="The kind of data to erase (category scope).",
    )
    password = serializers.CharField(
        required=False,
        style={"input_type": "password"},
        trim_whitespace=False,
        help_text="The account password (profile and account scopes).",
    )

    NEEDS = {
        "item": ("profile", "kind", "item"),
        "category": ("profile", "category"),
        "profile": ("profile", "password"),
        "account": ("password",),
    }

    def validate(self, attrs: dict) -> dict:
        missing = [f for f in self.NEEDS[attrs["scope"]] if f not in attrs]
        if missing:
            raise serializers.ValidationError(
                {f: f"Required to erase a {attrs['scope']}." for f in missing}
            )
        if "password" in attrs:
            request = self.context["request"]
            user = authenticate(
                request._request,
                username=request.user.email,
                password=attrs["password"],
            )
            if user is None or user.pk != request.user.pk:
                raise serializers.ValidationError(
                    {"password": "That is not the account password."}
                )
        return attrs


class EraseOut(serializers.Serializer):
    scope = serializers.CharField()
    erased = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Rows erased, per table or category.",
    )
    receipt = serializers.CharField(
        allow_null=True, help_text="The anonymous receipt's reference (account scope)."
    )
    model_versions = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Model versions that no longer hold the profiles (account scope).",
    )


class EraseView(_PrivacyView):
    """Erases one item, one category of a profile, a profile, or the whole account."""

    @extend_schema(request=EraseIn, responses=EraseOut)
    def post(self, request) -> Response:
        """Erasure is immediate and logged; a profile or the account needs the
        password. Erasing the account ends the session and answers with the
        anonymous receipt."""
        data = EraseIn(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        scope = data.validated_data["scope"]
        out = {"scope": scope, "erased": {}, "receipt": None, "model_versions": []}
        if scope == "account":
            receipt = services.erase_account(user=request.user)
            logout(request._request)
            out.update(
                erased=receipt.row_counts,
                receipt=receipt.reference,
                model_versions=receipt.model_versions,
            )
            return Response(EraseOut(out).data)
        profile = access_profile(request.user, data.validated_data["profile"])
        if scope == "item":
            try:
                services.erase_item(
                    profile=profile,
                    kind=data.validated_data["kind"],
                    item_id=data.validated_data["item"],
                )
            except ObjectDoesNotExist:
                raise Http404("No such item.") from None
            out["erased"] = {data.validated_data["kind"]: 1}
        elif scope == "category":
            category = data.validated_data["category"]
            out["erased"] = {
                category: services.erase_category(profile=profile, category=category)
            }
        else:
            try:
                out["erased"] = services.erase_profile(profile=profile)
            except services.ErasureRefused as refused:
                return Response(
                    {"detail": str(refused)}, status=status.HTTP_409_CONFLICT
                )
        return Response(EraseOut(out).data)
