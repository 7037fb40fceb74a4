"""The privacy centre's operations as REST endpoints (``/api/v1/privacy/``).

What the browser keeps behind the account password (the centre, the ledger,
the consent log, exports, erasing anything but one's own item), the API keeps
behind full account access (:mod:`accounts.api_access`): a token with the
``account`` scope, or a session that is not a kids profile's. Reading a
profile's settings needs only a grant for that profile; erasing one item of a
profile needs ``write`` (a kids profile erases items of its own shelves, as in
the browser). Data of the whole account (inventory, exports, the consent log,
erasing the account) needs a grant for every profile, not a token tied to one.

Another account's profile, export or item answers 404. Throttled per account
(scope ``privacy``, 60 a minute; asking for an export also
``privacy-export``, 3 a day, on top of the service's own rule); rates can be
set in ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]``.
"""

import math
from datetime import datetime

from django.contrib.auth import authenticate, logout
from django.core.exceptions import ObjectDoesNotExist
from django.http import FileResponse
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, pagination, serializers, status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import UserRateThrottle
from rest_framework.utils.urls import remove_query_param
from rest_framework.views import APIView

from accounts.api_access import (
    api_profile,
    require_level,
    require_whole_account,
)
from accounts.models import Profile
from catalog.models import Genre
from config.api_fields import IntegerIdField
from config.api_schema import ErrorResponse
from config.pagination import Cursor
from consent.context import REGION_CHOICES, WEATHER_CHOICES
from consent.models import PrivacySettings
from consent.policy import settings_for
from privacy import registry, selectors, services
from privacy.export_views import export_file_response
from privacy.models import ConsentEvent, DataExport
from privacy.templatetags.privacy_tags import consent_what

TAGS = ["privacy"]
#: The schema's enums (named in ``SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]``).
ERASURE_SCOPES = [
    ("item", "One item of a profile's activity"),
    ("category", "One kind of a profile's data"),
    ("profile", "A profile and all its data"),
    ("account", "The whole account"),
]
ITEM_KINDS = [(name, item.label) for name, (_, item) in registry.ITEMS.items()]
LEDGER_KINDS = [(name, item.label) for name, item in selectors.LEDGER_KINDS.items()]

# --- throttles and access ---------------------------------------------------------


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
    personalization = serializers.BooleanField(
        required=False,
        help_text="Off: everyone's rows, and the profile's history is not used "
        "for them.",
    )
    pause_viewing_history = serializers.BooleanField(
        required=False, help_text="On: plays are not kept."
    )
    pause_search_history = serializers.BooleanField(
        required=False, help_text="On: searches are not kept."
    )
    contextual_signals = serializers.BooleanField(
        required=False,
        help_text="Device and time of day kept and used for the rows.",
    )
    retention_months = serializers.ChoiceField(
        choices=PrivacySettings.Retention.choices,
        required=False,
        help_text="Delete activity older than this many months; 0 keeps it.",
    )
    exploration = serializers.IntegerField(
        min_value=0,
        max_value=PrivacySettings.EXPLORATION_MAX,
        required=False,
        help_text="How far Top picks trade match for variety.",
    )
    calibration = serializers.BooleanField(
        required=False,
        help_text="Keep the genre mix of the history in Top picks.",
    )
    location = serializers.BooleanField(
        required=False,
        help_text='Use the declared region (a "Popular in" row; counted, with '
        "at least 19 others, for that region's row). Off by default.",
    )
    region = serializers.ChoiceField(
        choices=REGION_CHOICES,
        allow_blank=True,
        required=False,
        help_text="A country or US area, never coordinates; empty: none.",
    )
    weather = serializers.BooleanField(
        required=False,
        help_text="Today's weather picks a mood when none is chosen. Off by default.",
    )
    weather_today = serializers.ChoiceField(
        choices=WEATHER_CHOICES,
        allow_blank=True,
        required=False,
        help_text="Today's weather as declared (ignored on another day); empty: none.",
    )
    weather_provider = serializers.BooleanField(
        required=False,
        help_text="Ask the configured weather service about the region's centre "
        "(nothing stored). Off by default.",
    )
    allow_training = serializers.BooleanField(
        required=False,
        help_text="Use this profile's activity to improve recommendations for others.",
    )
    experiments = serializers.BooleanField(
        required=False,
        help_text="Take part in tests (on by default): the profile may be shown "
        "a variant of the rows being tested. Off: never placed in a test again, "
        "and the record of its tests is deleted.",
    )
    hidden_genres = IntegerIdField(
        queryset=Genre.objects.all(),
        many=True,
        required=False,
        help_text="Ids of genres never recommended (replaces the whole set).",
    )
    updated_at = serializers.DateTimeField(read_only=True, allow_null=True)


def _settings_out(profile: Profile) -> dict:
    settings = settings_for(profile)
    data = {field: getattr(settings, field) for field in services.SETTING_FIELDS}
    data["allow_training"] = profile.allow_training
    if settings.weather_declared_on != timezone.localdate():
        data["weather_today"] = ""
    data["hidden_genres"] = (
        [] if settings._state.adding else list(settings.hidden_genres.order_by("pk"))
    )
    data["updated_at"] = None if settings._state.adding else settings.updated_at
    return data


class ProfileSettingsView(_PrivacyView):
    """A profile's privacy and personalization settings."""

    @extend_schema(
        tags=TAGS,
        summary="A profile's privacy settings",
        description="Needs a grant for the profile (any scope).",
        responses=SettingsSerializer,
    )
    def get(self, request, profile_id: int) -> Response:
        profile = api_profile(request, profile_id)
        return Response(SettingsSerializer(_settings_out(profile)).data)

    @extend_schema(
        tags=TAGS,
        summary="Change a profile's privacy settings",
        description="Changes the settings sent, each logged in the consent log. "
        "Setting or shortening `retention_months` deletes the older activity at "
        "once. Needs full account access (the browser asks a kids profile for "
        "the account password).",
        request=SettingsSerializer,
        responses=SettingsSerializer,
    )
    def patch(self, request, profile_id: int) -> Response:
        profile = api_profile(request, profile_id, need="account")
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
    note = serializers.CharField(allow_blank=True)


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
    access = "account"

    @extend_schema(
        tags=TAGS,
        summary="What is held",
        description="Every kind of data held for the account and each profile: "
        "counts and dates. Needs full account access for every profile.",
        responses=InventorySerializer,
    )
    def get(self, request) -> Response:
        require_whole_account(request)
        return Response(InventorySerializer(selectors.inventory(request.user)).data)


# --- consent log ------------------------------------------------------------------


class _Newest(Cursor):
    """Newest first, as the pages list them."""

    ordering = ("-created_at", "-id")


class ConsentEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    profile = serializers.IntegerField(
        source="profile_id_at_time",
        allow_null=True,
        help_text="The profile's id (it may have been erased since); null for "
        "the whole account.",
    )
    profile_name = serializers.SerializerMethodField(
        help_text="The profile's name then; null for the whole account."
    )
    kind = serializers.ChoiceField(choices=ConsentEvent.Kind.choices)
    kind_label = serializers.CharField(source="get_kind_display")
    what = serializers.CharField(help_text="What changed, as a stable key.")
    what_label = serializers.SerializerMethodField(
        help_text="What changed, in the privacy centre's words."
    )
    old_value = serializers.CharField(allow_blank=True)
    new_value = serializers.CharField(allow_blank=True)

    def get_profile_name(self, event: ConsentEvent) -> str | None:
        return event.profile_name or None

    def get_what_label(self, event: ConsentEvent) -> str:
        return consent_what(event.what)


class ConsentLogQuery(serializers.Serializer):
    profile = serializers.IntegerField(
        required=False, min_value=1, help_text="Only this profile's lines."
    )


class ConsentLogView(generics.ListAPIView):
    access = "account"
    throttle_classes = [PrivacyThrottle]
    pagination_class = _Newest
    serializer_class = ConsentEventSerializer

    @extend_schema(
        tags=TAGS,
        summary="The consent log",
        description="Every privacy setting change, export and erasure of the "
        "account, newest first (append-only). Needs full account access; a "
        "token tied to a profile may read its own profile's lines "
        "(`?profile=`).",
        parameters=[ConsentLogQuery],
    )
    def get(self, request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        query = ConsentLogQuery(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        profile_id = query.validated_data.get("profile")
        if profile_id is None:
            require_whole_account(self.request)
        else:
            api_profile(self.request, profile_id)
        return selectors.consent_log(self.request.user, profile_id=profile_id)


# --- the activity ledger ----------------------------------------------------------


class LedgerCursor(Cursor):
    """The ledger's cursor: the entry a page starts after (time, id, kind).

    The ledger is a UNION, which DRF's cursor cannot filter; the selector
    seeks past the entry instead (:func:`privacy.selectors.ledger`).
    """

    def paginate_ledger(self, request, *, profile_ids: list[int], kinds) -> list:
        self.request = request
        self.base_url = request.build_absolute_uri()
        self.page_size = self.get_page_size(request)
        cursor = self.decode_cursor(request)
        reverse = bool(cursor and cursor.reverse)
        beyond = self._key(cursor.position) if cursor is not None else None
        rows = list(
            selectors.ledger(profile_ids, kinds, beyond=beyond, reverse=reverse)[
                : self.page_size + 1
            ]
        )
        more = len(rows) > self.page_size
        rows = rows[: self.page_size]
        if reverse:
            rows.reverse()
        self._next = self._previous = None
        if rows:
            if more or reverse:
                self._next = self._link(rows[-1], reverse=False)
            if (more and reverse) or (cursor is not None and not reverse):
                self._previous = self._link(rows[0], reverse=True)
        elif cursor is not None:
            # Everything past the cursor is gone: back to the start.
            self._previous = remove_query_param(self.base_url, self.cursor_query_param)
        return rows

    def _link(self, row: tuple, *, reverse: bool) -> str:
        kind, pk, _profile, _title, at, *_ = row
        position = f"{at.isoformat()}|{pk}|{kind}"
        return self.encode_cursor(
            pagination.Cursor(offset=0, reverse=reverse, position=position)
        )

    def _key(self, position: str | None) -> selectors.LedgerKey:
        try:
            at, pk, kind = (position or "").split("|")
            key = selectors.LedgerKey(datetime.fromisoformat(at), int(pk), kind)
            valid = key.at.tzinfo is not None and kind in selectors.LEDGER_KINDS
        except ValueError:
            valid = False
        if not valid:
            raise exceptions.ValidationError(
                {self.cursor_query_param: "Not a cursor this list gave out."},
                code="invalid",
            )
        return key

    def get_next_link(self) -> str | None:
        return self._next

    def get_previous_link(self) -> str | None:
        return self._previous


class LedgerTitleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    year = serializers.IntegerField(allow_null=True)


class LedgerEntrySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=LEDGER_KINDS,
        help_text="Erase it with `POST /api/v1/privacy/erase/` (scope `item`) "
        "and this kind and id.",
    )
    id = serializers.IntegerField(source="pk")
    label = serializers.CharField(help_text="The kind, in the ledger's words.")
    profile = serializers.IntegerField(source="profile.pk")
    title = LedgerTitleSerializer(
        allow_null=True, help_text="The title it is about; null for a search."
    )
    query = serializers.SerializerMethodField(
        help_text="What was searched; null for the other kinds."
    )
    at = serializers.DateTimeField(help_text="When.")
    value = serializers.FloatField(
        source="number",
        allow_null=True,
        help_text="A rating's stars (0.5–5) or a play's progress (0–1); null "
        "for the other kinds.",
    )
    completed = serializers.BooleanField(help_text="A play watched to the end.")
    if_deleted = serializers.CharField(
        source="consequence", help_text="What erasing it changes."
    )

    def get_query(self, entry: selectors.LedgerEntry) -> str | None:
        return entry.text if entry.kind == "search" else None


class LedgerQuery(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=LEDGER_KINDS,
        required=False,
        help_text="Only this kind of activity.",
    )


class ProfileLedgerView(generics.GenericAPIView):
    throttle_classes = [PrivacyThrottle]
    pagination_class = LedgerCursor
    serializer_class = LedgerEntrySerializer

    @extend_schema(
        tags=TAGS,
        summary="A profile's activity, item by item",
        description="Every rating, thumb, hidden title, onboarding pick, play "
        "and search kept for the profile, newest first (the privacy centre's "
        "ledger). Each can be erased with `POST /api/v1/privacy/erase/`, "
        "scope `item`, by its `kind` and `id`. Needs full account access, as "
        "the browser asks a kids profile for the account password.",
        parameters=[LedgerQuery],
        responses=LedgerEntrySerializer(many=True),
    )
    def get(self, request, profile_id: int) -> Response:
        profile = api_profile(request, profile_id, need="account")
        query = LedgerQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        kind = query.validated_data.get("kind")
        rows = self.paginator.paginate_ledger(
            request, profile_ids=[profile.pk], kinds=[kind] if kind else None
        )
        entries = selectors.ledger_entries(rows, {profile.pk: profile})
        return self.get_paginated_response(
            LedgerEntrySerializer(entries, many=True).data
        )


# --- exports ----------------------------------------------------------------------


class ExportSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=DataExport.Status.choices)
    progress = serializers.IntegerField(help_text="Percent done.")
    size = serializers.IntegerField(help_text="Bytes of the zip.")
    row_counts = serializers.DictField(
        child=serializers.IntegerField(), help_text="Rows exported, per table."
    )
    error = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    download_url = serializers.SerializerMethodField(
        help_text="Where to download the zip once ready; null before."
    )

    def get_download_url(self, export: DataExport) -> str | None:
        if export.status != DataExport.Status.READY:
            return None
        return self.context["request"].build_absolute_uri(
            reverse("api:privacy-api:export-download", args=[export.pk])
        )


class ExportLimit(exceptions.APIException):
    """The service's own limit of exports a day, in the one error shape, with
    ``Retry-After`` (set by the handler from ``wait``)."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "export_limit"

    def __init__(self, refused: services.ExportLimitReached) -> None:
        super().__init__(str(refused))
        seconds = (refused.retry_at - timezone.now()).total_seconds()
        self.wait = max(1, math.ceil(seconds))


class ExportListView(generics.ListAPIView):
    access = "account"
    throttle_classes = [PrivacyThrottle]
    pagination_class = _Newest
    serializer_class = ExportSerializer

    def get_throttles(self):
        throttles = super().get_throttles()
        if self.request.method == "POST":
            throttles.append(ExportThrottle())
        return throttles

    def get_queryset(self):
        require_whole_account(self.request)
        return DataExport.objects.filter(user=self.request.user)

    @extend_schema(
        tags=TAGS,
        summary="The account's exports",
        description="Newest first. Needs full account access for every profile.",
    )
    def get(self, request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=TAGS,
        summary="Ask for an export",
        description="Asks for a zip of everything held about the account, built "
        "in the background: poll the export until `status` is `ready`, then "
        "download it. An export already waiting or building is answered "
        f"instead of a new one. At most {DataExport.MAX_PER_DAY} a day: past "
        "that, 429 `export_limit` with `Retry-After`. Needs full account access "
        "for every profile.",
        request=None,
        responses={202: ExportSerializer},
    )
    def post(self, request) -> Response:
        require_whole_account(request)
        try:
            export = services.data_export_request(user=request.user)
        except services.ExportLimitReached as refused:
            raise ExportLimit(refused) from None
        return Response(
            ExportSerializer(export, context={"request": request}).data,
            status=status.HTTP_202_ACCEPTED,
        )


class ExportDetailView(_PrivacyView):
    access = "account"

    @extend_schema(
        tags=TAGS,
        summary="One export",
        description="Its status, progress and, when ready, its download link. "
        "Needs full account access for every profile.",
        responses=ExportSerializer,
    )
    def get(self, request, export_id: int) -> Response:
        require_whole_account(request)
        export = generics.get_object_or_404(DataExport, pk=export_id, user=request.user)
        return Response(ExportSerializer(export, context={"request": request}).data)


class _ZipWhateverAccepted(DefaultContentNegotiation):
    """The download is a zip (a FileResponse, rendered by no renderer) and its
    errors JSON, whatever the client accepts: ``Accept: application/zip`` is
    not refused as 406."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class ExportDownloadView(_PrivacyView):
    access = "account"
    content_negotiation_class = _ZipWhateverAccepted

    @extend_schema(
        tags=TAGS,
        summary="Download an export",
        description="The export's zip, until it expires. Not ready, expired or "
        "gone: 404. Needs full account access for every profile.",
        responses={
            (200, "application/zip"): OpenApiTypes.BINARY,
            404: OpenApiResponse(
                ErrorResponse, description="No such export, not ready, or expired."
            ),
        },
    )
    def get(self, request, export_id: int) -> FileResponse:
        require_whole_account(request)
        return export_file_response(user=request.user, export_id=export_id)


# --- erasure ----------------------------------------------------------------------


class EraseIn(serializers.Serializer):
    scope = serializers.ChoiceField(
        choices=ERASURE_SCOPES,
        help_text="`item`: one entry of the ledger; `category`: one kind of a "
        "profile's data; `profile`: the profile and all its data (this is how "
        "a profile is deleted); `account`: everything.",
    )
    profile = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="The profile (item, category and profile scopes).",
    )
    kind = serializers.ChoiceField(
        choices=ITEM_KINDS,
        required=False,
        help_text="What the item is (item scope), as the ledger names it.",
    )
    item = serializers.IntegerField(
        required=False, min_value=1, help_text="Its id (item scope)."
    )
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
                {f: f"Required to erase a {attrs['scope']}." for f in missing},
                code="required",
            )
        return attrs


class EraseOut(serializers.Serializer):
    scope = serializers.ChoiceField(choices=ERASURE_SCOPES)
    erased = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Rows erased, per kind, category or table.",
    )
    receipt = serializers.CharField(
        allow_null=True, help_text="The anonymous receipt's reference (account scope)."
    )
    model_versions = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Model versions that no longer hold the profiles (account scope).",
    )


class ErasureRefused(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "erasure_refused"


def _account_password(request, password: str) -> None:
    """400 on ``password`` unless it is the account's (a wrong one counts
    towards the log-in lock-out, as on the site)."""
    user = authenticate(
        request._request, username=request.user.email, password=password
    )
    if user is None or user.pk != request.user.pk:
        raise exceptions.ValidationError(
            {"password": "That is not the account password."},
            code="incorrect_password",
        )


class EraseView(_PrivacyView):
    @extend_schema(
        tags=TAGS,
        summary="Erase data",
        description="Erases one item, one category of a profile's data, a "
        "profile, or the whole account, at once, and logs it in the consent "
        "log. **Deleting a profile is this operation with scope `profile`.**\n\n"
        "- `item`: an entry of the profile's activity ledger "
        "(`GET /api/v1/privacy/profiles/{profile_id}/activity/`), by its `kind` "
        "and `id`; needs `write` for the profile (a kids profile erases its "
        "own items);\n"
        "- `category`: needs full account access;\n"
        "- `profile`: needs full account access and the account `password`; "
        "the account's last profile is refused (409 `erasure_refused`): erase "
        "the account instead;\n"
        "- `account`: needs full account access for every profile and the "
        "`password`; ends the session and answers with the anonymous receipt.",
        request=EraseIn,
        responses={
            200: EraseOut,
            409: OpenApiResponse(
                ErrorResponse, description="The account's last profile."
            ),
        },
    )
    def post(self, request) -> Response:
        data = EraseIn(data=request.data)
        data.is_valid(raise_exception=True)
        given = data.validated_data
        scope = given["scope"]
        out = {"scope": scope, "erased": {}, "receipt": None, "model_versions": []}
        if scope == "account":
            require_level(request, "account")
            require_whole_account(request)
            _account_password(request, given["password"])
            receipt = services.erase_account(user=request.user)
            logout(request._request)
            out.update(
                erased=receipt.row_counts,
                receipt=receipt.reference,
                model_versions=receipt.model_versions,
            )
            return Response(EraseOut(out).data)
        need = "write" if scope == "item" else "account"
        profile = api_profile(request, given["profile"], need=need)
        if scope == "item":
            try:
                services.erase_item(
                    profile=profile, kind=given["kind"], item_id=given["item"]
                )
            except ObjectDoesNotExist:
                raise exceptions.NotFound() from None
            out["erased"] = {given["kind"]: 1}
        elif scope == "category":
            category = given["category"]
            out["erased"] = {
                category: services.erase_category(profile=profile, category=category)
            }
        else:
            _account_password(request, given["password"])
            try:
                out["erased"] = services.erase_profile(profile=profile)
            except services.ErasureRefused as refused:
                raise ErasureRefused(str(refused)) from None
        return Response(EraseOut(out).data)
