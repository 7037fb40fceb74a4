"""Reads of a profile's privacy choices, used by every app that personalizes,
and the privacy centre's reads: what is held (inventory), what is inferred
(taste profile), which model serves a profile, and the feedback ledger."""

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.apps import apps
from django.db import models
from django.db.models import (
    BigIntegerField,
    BooleanField,
    CharField,
    Count,
    F,
    FloatField,
    Max,
    Min,
    Q,
    QuerySet,
    Value,
)

from accounts.models import Profile, User
from activity.models import (
    Feedback,
    ListItem,
    Rating,
    SearchEvent,
    TagApplication,
    ViewingEvent,
)
from catalog.models import Genre, Title
from consent.models import PrivacySettings
from privacy.models import ConsentEvent, DataExport
from recommendations.models import (
    ModelVersion,
    ProfileCandidates,
    RowEngagement,
    SeedExclusion,
)

# --- what we know about you: the inventory ----------------------------------------


@dataclass(frozen=True)
class Holding:
    """One kind of data held, with how much of it and over which dates."""

    key: str
    label: str
    count: int
    first: datetime | None = None
    last: datetime | None = None
    note: str = ""


@dataclass(frozen=True)
class _Kind:
    key: str
    label: str
    model: type[models.Model]
    first: str | None
    last: str | None
    note: str
    #: Feedback is counted per kind: which one this is.
    feedback_kind: str | None = None


_FEEDBACK_NOTES = {
    Feedback.Kind.THUMBS_UP: "A like: Top picks count it as a 4.5-star rating.",
    Feedback.Kind.THUMBS_DOWN: "A dislike: Top picks count it as a 1.5-star "
    "rating and push similar titles down.",
    Feedback.Kind.NOT_INTERESTED: "Hidden titles: never shown in your rows; "
    "similar titles are pushed down.",
    Feedback.Kind.PICK: "Titles picked when the profile was new: counted as "
    "4-star ratings.",
}
_FEEDBACK_LABELS = {
    Feedback.Kind.THUMBS_UP: "Thumbs up",
    Feedback.Kind.THUMBS_DOWN: "Thumbs down",
    Feedback.Kind.NOT_INTERESTED: "Not interested (hidden titles)",
    Feedback.Kind.PICK: "Onboarding picks",
}

#: Every kind of data held per profile, in the order the centre lists them.
PROFILE_DATA: tuple[_Kind, ...] = (
    _Kind(
        "ratings",
        "Ratings",
        Rating,
        "created_at",
        "updated_at",
        "Your stars: the strongest signal for Top picks.",
    ),
    _Kind(
        "viewings",
        "Plays (viewing history)",
        ViewingEvent,
        "started_at",
        "updated_at",
        "What you played and how far: Continue watching, and for titles you "
        "did not rate, a finished play counts as 4 stars, half way as 3, "
        "less as 2.",
    ),
    _Kind(
        "searches",
        "Searches",
        SearchEvent,
        "created_at",
        "created_at",
        "Your search history. Not used for recommendations.",
    ),
    *(
        _Kind(
            f"feedback_{kind}",
            _FEEDBACK_LABELS[kind],
            Feedback,
            "created_at",
            "created_at",
            _FEEDBACK_NOTES[kind],
            kind.value,
        )
        for kind in Feedback.Kind
    ),
    _Kind(
        "list",
        "My List",
        ListItem,
        "added_at",
        "added_at",
        "Titles you saved. Shown to you; not used to pick other titles.",
    ),
    _Kind(
        "tags",
        "Tags you applied",
        TagApplication,
        "created_at",
        "created_at",
        "Words you put on titles (imported). Not used for recommendations.",
    ),
    _Kind(
        "seed_exclusions",
        "Rows you turned down",
        SeedExclusion,
        "created_at",
        "created_at",
        "Titles you asked us not to base “Because you watched” rows on.",
    ),
    _Kind(
        "row_engagement",
        "Row engagement",
        RowEngagement,
        None,
        "updated_at",
        "How often you act on each kind of row; busier rows rise on your home page.",
    ),
)
#: Profile data the inventory shows in a section of its own.
_SHOWN_APART = (PrivacySettings, ProfileCandidates)


def _other_profile_models() -> list[type[models.Model]]:
    """Models with a foreign key to Profile that :data:`PROFILE_DATA` does not
    name, so that a new kind of personal data shows up without being listed."""
    named = {kind.model for kind in PROFILE_DATA} | set(_SHOWN_APART)
    found = []
    for model in apps.get_models():
        if model in named or model._meta.proxy:
            continue
        if any(
            f.is_relation and f.related_model is Profile
            for f in model._meta.concrete_fields
        ):
            found.append(model)
    return sorted(found, key=lambda m: m._meta.label)


def _profile_field(model: type[models.Model]) -> str:
    return next(
        f.name
        for f in model._meta.concrete_fields
        if f.is_relation and f.related_model is Profile
    )


@dataclass
class ProfileInventory:
    profile: Profile
    settings: PrivacySettings
    holdings: list[Holding]
    hidden_genre_count: int
    candidates: ProfileCandidates | None

    @property
    def total(self) -> int:
        return sum(h.count for h in self.holdings)

    @property
    def candidate_count(self) -> int:
        return len(self.candidates.title_ids) if self.candidates else 0


@dataclass
class AccountInventory:
    profiles: list[ProfileInventory]
    account: list[Holding]

    def for_profile(self, profile_id: int) -> ProfileInventory | None:
        return next((p for p in self.profiles if p.profile.pk == profile_id), None)


def _grouped(
    model: type[models.Model],
    profile_ids: list[int],
    first: str | None,
    last: str | None,
    extra: tuple[str, ...] = (),
) -> dict[tuple, tuple[int, datetime | None, datetime | None]]:
    """One aggregate query: count and date range per profile (and ``extra``)."""
    by = _profile_field(model) + "_id"
    aggregates = {"n": Count("pk")}
    if first:
        aggregates["first"] = Min(first)
    if last:
        aggregates["last"] = Max(last)
    rows = (
        model.objects.filter(**{f"{by}__in": profile_ids})
        .values(by, *extra)
        .annotate(**aggregates)
        .order_by()
    )
    return {
        (row[by], *(row[e] for e in extra)): (
            row["n"],
            row.get("first"),
            row.get("last"),
        )
        for row in rows
    }


def inventory(user: User) -> AccountInventory:
    """Everything held for the account and each of its profiles, counted.

    A fixed number of aggregate queries, whatever the number of profiles or
    rows: one per kind of data (feedback grouped by kind), plus profiles,
    settings, candidates, consent log and exports.
    """
    profiles = list(Profile.objects.filter(user=user).order_by("created_at", "id"))
    ids = [p.pk for p in profiles]
    counted: dict[type[models.Model], dict] = {}
    for kind in PROFILE_DATA:
        if kind.model not in counted:
            extra = ("kind",) if kind.model is Feedback else ()
            counted[kind.model] = _grouped(
                kind.model, ids, kind.first, kind.last, extra
            )
    others = {
        model: _grouped(model, ids, None, None) for model in _other_profile_models()
    }
    settings_rows = {
        s.pk: s
        for s in PrivacySettings.objects.filter(profile_id__in=ids).annotate(
            hidden_count=Count("hidden_genres")
        )
    }
    candidates = {
        c.profile_id: c
        for c in ProfileCandidates.objects.filter(profile_id__in=ids)
        .select_related("model_version")
        .defer("scores", "predicted")
    }
    result = []
    for profile in profiles:
        holdings = []
        for kind in PROFILE_DATA:
            key = (profile.pk,)
            if kind.feedback_kind:
                key += (kind.feedback_kind,)
            n, first, last = counted[kind.model].get(key, (0, None, None))
            holdings.append(Holding(kind.key, kind.label, n, first, last, kind.note))
        for model, rows in others.items():
            n, _, _ = rows.get((profile.pk,), (0, None, None))
            holdings.append(
                Holding(
                    model._meta.label_lower,
                    str(model._meta.verbose_name_plural).capitalize(),
                    n,
                )
            )
        settings = settings_rows.get(profile.pk) or PrivacySettings(profile=profile)
        profile.privacy = settings
        result.append(
            ProfileInventory(
                profile=profile,
                settings=settings,
                holdings=holdings,
                hidden_genre_count=getattr(settings, "hidden_count", 0),
                candidates=candidates.get(profile.pk),
            )
        )
    consent = ConsentEvent.objects.filter(user=user).aggregate(
        n=Count("pk"), first=Min("created_at"), last=Max("created_at")
    )
    exports = DataExport.objects.filter(user=user).aggregate(
        n=Count("pk"), first=Min("created_at"), last=Max("created_at")
    )
    account = [
        Holding(
            "profiles",
            "Profiles",
            len(profiles),
            min((p.created_at for p in profiles), default=None),
            max((p.created_at for p in profiles), default=None),
            "Names, avatar colours and whether each is a kids profile.",
        ),
        Holding(
            "consent_log",
            "Consent log",
            consent["n"],
            consent["first"],
            consent["last"],
            "Every settings change, export and erasure: what, old → new, when.",
        ),
        Holding(
            "exports",
            "Data exports",
            exports["n"],
            exports["first"],
            exports["last"],
            "Your “Download my data” requests; each zip is deleted after 7 days.",
        ),
    ]
    return AccountInventory(profiles=result, account=account)


# --- what we infer: the taste profile -------------------------------------------

#: Ratings at or above this count as liking a title.
LIKED_RATING = 3.5
TASTE_TOP_GENRES = 8


@dataclass(frozen=True)
class GenreWeight:
    name: str
    slug: str
    weight: float  # share of the liked titles' genre mix, 0..1


@dataclass(frozen=True)
class TasteProfile:
    genres: list[GenreWeight]  # the strongest first, at most TASTE_TOP_GENRES
    liked_titles: int
    #: Normalized entropy of the whole genre mix (0 = one genre only,
    #: 1 = every genre of the catalog alike); None without enough history.
    adventurousness: float | None

    MIN_TITLES = 3

    @property
    def adventurousness_words(self) -> str:
        a = self.adventurousness
        if a is None:
            return (
                "Not enough history yet to tell: like, rate or finish a few "
                "more titles."
            )
        if a < 0.4:
            return "Focused: most of what you like comes from a few genres."
        if a < 0.6:
            return "Steady: a core of favourite genres, with some variety."
        if a < 0.8:
            return "Adventurous: what you like spreads over many genres."
        return "Very adventurous: you like a bit of everything."


def liked_title_filter(profile: Profile, title_id: str = "pk") -> Q:
    """Titles the profile likes: rated 3.5 or more, finished, thumbs up or
    picked at onboarding (``title_id`` names the title's id in the query)."""
    return (
        Q(
            **{
                f"{title_id}__in": Rating.objects.filter(
                    profile=profile, value__gte=LIKED_RATING
                ).values("title_id")
            }
        )
        | Q(
            **{
                f"{title_id}__in": ViewingEvent.objects.filter(
                    profile=profile, completed=True
                ).values("title_id")
            }
        )
        | Q(
            **{
                f"{title_id}__in": Feedback.objects.filter(
                    profile=profile,
                    kind__in=[Feedback.Kind.THUMBS_UP, Feedback.Kind.PICK],
                ).values("title_id")
            }
        )
    )


def taste_profile(profile: Profile) -> TasteProfile:
    """The genres of what the profile likes, weighted, and how varied they are.

    Each liked title counts once and shares its weight equally among its
    genres. Two queries.
    """
    pairs = list(
        Title.genres.through.objects.filter(liked_title_filter(profile, "title_id"))
        .values_list("title_id", "genre__name", "genre__slug")
        .order_by()
    )
    return _taste_from_pairs(pairs, catalog_genres=Genre.objects.count())


def _taste_from_pairs(
    pairs: Iterable[tuple[int, str, str]], *, catalog_genres: int
) -> TasteProfile:
    by_title: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for title_id, name, slug in pairs:
        by_title[title_id].append((name, slug))
    weights: dict[tuple[str, str], float] = defaultdict(float)
    for genres in by_title.values():
        for genre in genres:
            weights[genre] += 1 / len(genres)
    total = sum(weights.values())
    if not total:
        return TasteProfile(genres=[], liked_titles=0, adventurousness=None)
    shares = sorted(
        ((w / total, name, slug) for (name, slug), w in weights.items()),
        key=lambda s: (-s[0], s[1]),
    )
    adventurousness = None
    if len(by_title) >= TasteProfile.MIN_TITLES:
        entropy = -sum(p * math.log(p) for p, _, _ in shares if p > 0)
        adventurousness = entropy / math.log(max(catalog_genres, len(shares), 2))
    return TasteProfile(
        genres=[
            GenreWeight(name=name, slug=slug, weight=share)
            for share, name, slug in shares[:TASTE_TOP_GENRES]
        ],
        liked_titles=len(by_title),
        adventurousness=adventurousness,
    )


# --- which model serves a profile --------------------------------------------------


@dataclass(frozen=True)
class ModelInUse:
    version: ModelVersion | None
    explanation: str
    candidates_at: datetime | None = None


def model_in_use(
    settings: PrivacySettings,
    candidates: ProfileCandidates | None,
    active: ModelVersion | None,
) -> ModelInUse:
    """The model version behind the profile's Top picks, or why there is none."""
    if not settings.personalization:
        return ModelInUse(
            None,
            "None: personalization is off, so your rows are everyone’s "
            "(trending, new, curated) and your history is not used for them.",
        )
    if candidates is not None and candidates.model_version is not None:
        version = candidates.model_version
        return ModelInUse(
            version,
            f"Model #{version.pk} ({version.algorithm}), "
            f"{version.get_status_display().lower()}.",
            candidates.updated_at,
        )
    if active is None:
        return ModelInUse(
            None, "None: non-personalized. No model has been trained yet."
        )
    return ModelInUse(
        None,
        "None: non-personalized. Your picks are computed once you rate, "
        "like or finish a title.",
    )


# --- the feedback ledger -----------------------------------------------------------


class LedgerKind:
    RATING = "rating"
    PLAY = "play"
    SEARCH = "search"
    THUMBS_UP = Feedback.Kind.THUMBS_UP.value
    THUMBS_DOWN = Feedback.Kind.THUMBS_DOWN.value
    NOT_INTERESTED = Feedback.Kind.NOT_INTERESTED.value
    PICK = Feedback.Kind.PICK.value


@dataclass(frozen=True)
class LedgerKindInfo:
    label: str
    plural: str
    #: What deleting one changes, in the viewer's words, to follow "If
    #: deleted, " (so it may start in lower case).
    consequence: str


#: The ledger's kinds, in the order its filter lists them.
LEDGER_KINDS: dict[str, LedgerKindInfo] = {
    LedgerKind.RATING: LedgerKindInfo(
        "Rating", "Ratings", "Top picks will no longer use this rating."
    ),
    LedgerKind.THUMBS_UP: LedgerKindInfo(
        "Thumbs up",
        "Thumbs up",
        "Top picks will no longer count this as a title you like.",
    ),
    LedgerKind.THUMBS_DOWN: LedgerKindInfo(
        "Thumbs down",
        "Thumbs down",
        "Top picks will no longer count this as a title you dislike.",
    ),
    LedgerKind.NOT_INTERESTED: LedgerKindInfo(
        "Not interested",
        "Not interested (hidden titles)",
        "the title may show in your rows again.",
    ),
    LedgerKind.PICK: LedgerKindInfo(
        "Onboarding pick",
        "Onboarding picks",
        "Top picks will no longer use this pick.",
    ),
    LedgerKind.PLAY: LedgerKindInfo(
        "Play",
        "Plays",
        "it is gone from your history and Continue watching, and Top picks stop "
        "counting it.",
    ),
    LedgerKind.SEARCH: LedgerKindInfo(
        "Search",
        "Searches",
        "it is gone from your search history (searches are not used for "
        "recommendations).",
    ),
}
_FEEDBACK_LEDGER_KINDS = [k.value for k in Feedback.Kind]


@dataclass(frozen=True)
class LedgerEntry:
    kind: str
    pk: int
    profile: Profile
    title: Title | None
    at: datetime
    number: float | None  # the rating's stars, the play's progress
    text: str  # the search's query
    completed: bool  # a finished play

    @property
    def label(self) -> str:
        return LEDGER_KINDS[self.kind].label

    @property
    def consequence(self) -> str:
        return LEDGER_KINDS[self.kind].consequence


_LEDGER_COLUMNS = ("e_kind", "e_id", "e_profile", "e_title", "e_at", "e_number")
_LEDGER_COLUMNS += ("e_text", "e_done")


def _ledger_part(
    model: type[models.Model],
    profile_ids: list[int],
    *,
    kind: F | Value,
    at: str,
    title: bool = True,
    number: str | None = None,
    text: str | None = None,
    done: str | None = None,
    only: Q | None = None,
) -> QuerySet:
    rows = model.objects.filter(profile_id__in=profile_ids)
    if only is not None:
        rows = rows.filter(only)
    return (
        rows.annotate(
            e_kind=kind,
            e_id=F("pk"),
            e_profile=F("profile_id"),
            e_title=F("title_id") if title else Value(None, BigIntegerField()),
            e_at=F(at),
            e_number=F(number) if number else Value(None, FloatField()),
            e_text=F(text) if text else Value("", CharField()),
            e_done=F(done) if done else Value(False, BooleanField()),
        )
        .values_list(*_LEDGER_COLUMNS)
        .order_by()
    )


def ledger(profile_ids: list[int], kinds: Iterable[str] | None = None) -> QuerySet:
    """Every rating, thumb, hidden title, pick, play and search of the
    profiles, newest first, as one query (a UNION) that pages cheaply.

    Rows are tuples of :data:`_LEDGER_COLUMNS`; :func:`ledger_entries` turns
    a page of them into :class:`LedgerEntry`.
    """
    wanted = set(LEDGER_KINDS) if kinds is None else set(kinds) & set(LEDGER_KINDS)
    parts = []
    if LedgerKind.RATING in wanted:
        parts.append(
            _ledger_part(
                Rating,
                profile_ids,
                kind=Value(LedgerKind.RATING, CharField()),
                at="updated_at",
                number="value",
            )
        )
    feedback_kinds = [k for k in _FEEDBACK_LEDGER_KINDS if k in wanted]
    if feedback_kinds:
        parts.append(
            _ledger_part(
                Feedback,
                profile_ids,
                kind=F("kind"),
                at="created_at",
                only=Q(kind__in=feedback_kinds),
            )
        )
    if LedgerKind.PLAY in wanted:
        parts.append(
            _ledger_part(
                ViewingEvent,
                profile_ids,
                kind=Value(LedgerKind.PLAY, CharField()),
                at="started_at",
                number="progress",
                done="completed",
            )
        )
    if LedgerKind.SEARCH in wanted:
        parts.append(
            _ledger_part(
                SearchEvent,
                profile_ids,
                kind=Value(LedgerKind.SEARCH, CharField()),
                at="created_at",
                title=False,
                text="query",
            )
        )
    if not parts:
        return Rating.objects.none().values_list("pk")
    first, *rest = parts
    combined = first.union(*rest, all=True) if rest else first
    return combined.order_by("-e_at", "-e_id")


def ledger_entries(rows: Iterable[tuple], profiles: dict[int, Profile]) -> list:
    """A page of :func:`ledger` rows with their titles (one query)."""
    rows = list(rows)
    titles = Title.objects.in_bulk({row[3] for row in rows if row[3] is not None})
    return [
        LedgerEntry(
            kind=kind,
            pk=pk,
            profile=profiles[profile_id],
            title=titles.get(title_id),
            at=at,
            number=number,
            text=text,
            completed=bool(done),
        )
        for kind, pk, profile_id, title_id, at, number, text, done in rows
    ]


def hidden_titles(profile: Profile) -> QuerySet[Feedback]:
    """The titles the profile said it is not interested in, latest first."""
    return (
        Feedback.objects.filter(profile=profile, kind=Feedback.Kind.NOT_INTERESTED)
        .select_related("title")
        .order_by("-created_at", "-id")
    )
