"""Reads of a profile's privacy choices, used by every app that personalizes,
and the privacy centre's reads: what is held (inventory), what is inferred
(taste profile), which model serves a profile, and the feedback ledger."""

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

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
from activity.models import Feedback
from catalog.models import Title
from consent.models import PrivacySettings
from privacy import registry
from privacy.models import ConsentEvent, DataExport
from recommendations.engine import taste
from recommendations.home.signals import Taste, taste_of
from recommendations.models import ModelVersion, ProfileCandidates

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


#: The registry's entries counted per profile, in the order the centre lists them.
PROFILE_DATA: tuple[registry.PersonalData, ...] = tuple(
    e
    for e in registry.ENTRIES
    if e.by_profile and isinstance(e.inventory, registry.Counted)
)
#: Counted for the whole account (profiles, consent log, exports).
ACCOUNT_DATA: tuple[registry.PersonalData, ...] = tuple(
    e
    for e in registry.ENTRIES
    if not e.by_profile and isinstance(e.inventory, registry.Counted)
)
#: Profile data the inventory shows in a section of its own.
_SHOWN_APART = tuple(
    e.model for e in registry.ENTRIES if isinstance(e.inventory, registry.Apart)
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
    entry: registry.PersonalData, by: str, owners: list[int]
) -> dict[tuple, tuple[int, datetime | None, datetime | None]]:
    """One aggregate query: count and date range per owner (``by``), and per
    value of the entry's ``split_by`` column if it has one."""
    counted = entry.inventory
    extra = (entry.split_by,) if entry.split_by else ()
    aggregates = {"n": Count("pk")}
    if counted.first:
        aggregates["first"] = Min(counted.first)
    if counted.last:
        aggregates["last"] = Max(counted.last)
    rows = (
        entry.model._default_manager.filter(**{f"{by}__in": owners})
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


def _holdings(
    entry: registry.PersonalData, counted: dict[tuple, tuple], owner: int
) -> list[Holding]:
    holdings = []
    for line in entry.inventory.lines:
        key = (owner,) if line.value is None else (owner, line.value)
        n, first, last = counted.get(key, (0, None, None))
        holdings.append(Holding(line.key, line.label, n, first, last, line.note))
    return holdings


def inventory(user: User) -> AccountInventory:
    """Everything held for the account and each of its profiles, counted.

    A fixed number of aggregate queries, whatever the number of profiles or
    rows: one per kind of data the registry counts (feedback grouped by
    kind), plus profiles, settings and candidates.
    """
    profiles = list(Profile.objects.filter(user=user).order_by("created_at", "id"))
    ids = [p.pk for p in profiles]
    counted = {
        entry: _grouped(entry, f"{entry.owner}_id", ids) for entry in PROFILE_DATA
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
        holdings = [
            holding
            for entry in PROFILE_DATA
            for holding in _holdings(entry, counted[entry], profile.pk)
        ]
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
    account = [
        holding
        for entry in ACCOUNT_DATA
        for holding in _holdings(
            entry, _grouped(entry, f"{entry.owner}_id", [user.pk]), user.pk
        )
    ]
    return AccountInventory(profiles=result, account=account)


# --- what we infer: the taste profile -------------------------------------------

TASTE_TOP_GENRES = 8
#: Which titles make the taste and how much, in the viewer's words (the rule
#: is ``recommendations.engine.taste``'s).
TASTE_RULE = (
    f"rated {taste.LIKED_MIN_RATING:g} stars or more, watched at least half way, "
    "given a thumbs up or picked, and never marked not interested or thumbs "
    "down; a rating counts its stars out of 5, a thumbs up "
    f"{taste.THUMBS_UP_WEIGHT:g}, a pick {taste.PICK_WEIGHT:g}, watching "
    f"{taste.WATCHED_WEIGHT:g}"
)


@dataclass(frozen=True)
class GenreWeight:
    name: str
    slug: str
    weight: float  # share of the liked titles' genre mix, 0..1
    level: int = taste.DEFAULT_LEVEL  # the viewer's slider, percent (0 = off)
    used: float = 0.0  # share of the mix the rows use, after the sliders


@dataclass(frozen=True)
class TasteProfile:
    genres: list[GenreWeight]  # the strongest first, at most TASTE_TOP_GENRES
    liked_titles: int
    #: Normalized entropy of the whole genre mix (0 = one genre only,
    #: 1 = every genre of the catalog alike); None without enough history.
    adventurousness: float | None

    MIN_TITLES = 3

    @property
    def how_counted(self) -> str:
        return TASTE_RULE

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


def taste_profile(profile: Profile, mix: Taste | None = None) -> TasteProfile:
    """The genres of what the profile likes, weighted, and how varied they are.

    The very genre mix its home rows use (``taste_of``: the rule is
    ``recommendations.engine.taste``), so what the centre shows and exports
    is what chooses the rows. Three queries and the cached catalog snapshot
    (none when ``mix``, the profile's ``taste_of``, is given).
    """
    return _taste_from_shares(mix if mix is not None else taste_of(profile))


@dataclass(frozen=True)
class TasteSlider:
    """One genre of the profile's taste, as its slider shows it."""

    genre_id: int
    name: str
    slug: str
    share: float  # of what the history says, 0..1
    level: int  # the viewer's percent (``engine.taste.LEVELS``; 100: as it is)
    used: float  # of the mix the rows use, after every slider, 0..1

    @property
    def level_words(self) -> str:
        return taste.LEVELS.get(self.level, f"{self.level}%")

    @property
    def share_words(self) -> str:
        if self.share <= 0:
            return "not in your history now"
        if self.share < 0.005:
            return "under 1% of what you do"
        return f"{round(self.share * 100)}% of what you do"

    @property
    def used_percent(self) -> int:
        return round(self.used * 100)


@dataclass(frozen=True)
class TasteSliders:
    """The centre's taste sliders: every genre of the taste, strongest first
    (and any the viewer set that the history no longer holds)."""

    sliders: list[TasteSlider]
    made_of: str  # "what you rated or picked"
    adjusted: bool  # some genre is not "as you watch"

    LEVELS = taste.LEVELS
    #: Sliders shown at first; the rest (the rarer genres) behind "more".
    SHOWN = 8

    @property
    def first(self) -> list[TasteSlider]:
        return self.sliders[: self.SHOWN]

    @property
    def rest(self) -> list[TasteSlider]:
        return self.sliders[self.SHOWN :]

    @property
    def rest_adjusted(self) -> bool:
        return any(s.level != taste.DEFAULT_LEVEL for s in self.rest)


def taste_sliders(mix: Taste) -> TasteSliders:
    """The sliders of a taste (``taste_of``: the mix the rows use)."""
    sliders = [
        TasteSlider(g.genre_id, g.name, g.slug, g.share, g.level, g.used)
        for g in mix.genres
    ]
    return TasteSliders(
        sliders=sliders,
        made_of=mix.made_of,
        adjusted=any(s.level != taste.DEFAULT_LEVEL for s in sliders),
    )


def _taste_from_shares(mix: Taste) -> TasteProfile:
    genres = [g for g in mix.genres if g.share > 0]
    if not genres:
        return TasteProfile(genres=[], liked_titles=0, adventurousness=None)
    adventurousness = None
    if mix.liked_titles >= TasteProfile.MIN_TITLES:
        entropy = -sum(g.share * math.log(g.share) for g in genres)
        adventurousness = entropy / math.log(max(mix.catalog_genres, len(genres), 2))
    return TasteProfile(
        genres=[
            GenreWeight(
                name=g.name, slug=g.slug, weight=g.share, level=g.level, used=g.used
            )
            for g in genres[:TASTE_TOP_GENRES]
        ],
        liked_titles=mix.liked_titles,
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

#: The ledger's kinds (the registry's items shown in it), in its filter's order.
LEDGER_KINDS = registry.LEDGER_KINDS
#: The registry's entries the ledger lists.
_LEDGER_DATA = tuple(e for e in registry.ENTRIES if e.ledger is not None)


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
    entry: registry.PersonalData, profile_ids: list[int], kinds: list[str]
) -> QuerySet:
    """One entry's rows of the given kinds, as :data:`_LEDGER_COLUMNS`."""
    shown = entry.ledger
    rows = entry.model._default_manager.filter(**{f"{entry.owner}_id__in": profile_ids})
    if entry.split_by:
        rows = rows.filter(**{f"{entry.split_by}__in": kinds})
        kind = F(entry.split_by)
    else:
        (name,) = kinds
        kind = Value(name, CharField())
    return (
        rows.annotate(
            e_kind=kind,
            e_id=F("pk"),
            e_profile=F(f"{entry.owner}_id"),
            e_title=F("title_id") if shown.title else Value(None, BigIntegerField()),
            e_at=F(shown.at),
            e_number=F(shown.number) if shown.number else Value(None, FloatField()),
            e_text=F(shown.text) if shown.text else Value("", CharField()),
            e_done=F(shown.done) if shown.done else Value(False, BooleanField()),
        )
        .values_list(*_LEDGER_COLUMNS)
        .order_by()
    )


@dataclass(frozen=True)
class LedgerKey:
    """An entry's place in the ledger's order (time, id, kind: unique), from
    which a page starts (the API's cursor)."""

    at: datetime
    pk: int
    kind: str


def _beyond(key: LedgerKey, reverse: bool) -> Q:
    """The rows past ``key`` in the ledger's order (newest first), or before
    it when ``reverse``."""
    op = "gt" if reverse else "lt"
    return (
        Q(**{f"e_at__{op}": key.at})
        | Q(e_at=key.at, **{f"e_id__{op}": key.pk})
        | Q(e_at=key.at, e_id=key.pk, **{f"e_kind__{op}": key.kind})
    )


def ledger(
    profile_ids: list[int],
    kinds: Iterable[str] | None = None,
    *,
    beyond: LedgerKey | None = None,
    reverse: bool = False,
) -> QuerySet:
    """Every rating, thumb, hidden title, pick, play and search of the
    profiles, newest first, as one query (a UNION) that pages cheaply.

    ``beyond`` starts after that entry (a keyset page: a UNION cannot be
    filtered afterwards, so each part is); ``reverse`` reads the other way,
    oldest first, from ``beyond`` back towards the newest.
    Rows are tuples of :data:`_LEDGER_COLUMNS`; :func:`ledger_entries` turns
    a page of them into :class:`LedgerEntry`.
    """
    wanted = set(LEDGER_KINDS) if kinds is None else set(kinds) & set(LEDGER_KINDS)
    parts = []
    for entry in _LEDGER_DATA:
        shown = [item.name for item in entry.items if item.name in wanted]
        if shown:
            part = _ledger_part(entry, profile_ids, shown)
            if beyond is not None:
                part = part.filter(_beyond(beyond, reverse))
            parts.append(part)
    if not parts:
        return _LEDGER_DATA[0].model._default_manager.none().values_list("pk")
    first, *rest = parts
    combined = first.union(*rest, all=True) if rest else first
    order = ("e_at", "e_id", "e_kind")
    return combined.order_by(*(order if reverse else (f"-{o}" for o in order)))


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


def item_owner(user: User, *, kind: str, item_id: int) -> Profile | None:
    """The account's profile that holds the item (``kind`` of
    :data:`registry.ITEMS`), or None when none does (or the kind is unknown)."""
    try:
        entry, item = registry.item_kind(kind)
    except ValueError:
        return None
    row = (
        entry.rows_of(user)
        .filter(pk=item_id, **entry.item_filter(item))
        .select_related(entry.owner)
        .first()
    )
    return getattr(row, entry.owner) if row is not None else None


def consent_log(user: User, *, profile_id: int | None = None) -> QuerySet:
    """The account's consent log, newest first; one profile's lines only when
    ``profile_id`` is given (the profile's id at the time of each line)."""
    events = ConsentEvent.objects.filter(user=user).order_by("-created_at", "-id")
    if profile_id is not None:
        events = events.filter(profile_id_at_time=profile_id)
    return events


def hidden_titles(profile: Profile) -> QuerySet[Feedback]:
    """The titles the profile said it is not interested in, latest first."""
    return (
        Feedback.objects.filter(profile=profile, kind=Feedback.Kind.NOT_INTERESTED)
        .select_related("title")
        .order_by("-created_at", "-id")
    )


def show_fewer_titles(profile: Profile) -> QuerySet[Feedback]:
    """The titles the profile asked to see fewer like, latest first."""
    return (
        Feedback.objects.filter(profile=profile, kind=Feedback.Kind.SHOW_FEWER)
        .select_related("title")
        .order_by("-created_at", "-id")
    )


# --- how long an export takes ------------------------------------------------------

#: Recent finished exports whose build times say how long the next one takes.
EXPORT_WAIT_SAMPLE = 20


def export_ready_within() -> str:
    """When a new export will be ready, in words ("usually ready within a
    minute"): the slowest of the last finished exports' build times (any
    account's; only durations are read), or a cautious default before any."""
    durations = [
        finished - created
        for created, finished in DataExport.objects.filter(
            status__in=(DataExport.Status.READY, DataExport.Status.EXPIRED),
            finished_at__isnull=False,
        )
        .order_by("-finished_at")
        .values_list("created_at", "finished_at")[:EXPORT_WAIT_SAMPLE]
    ]
    if not durations:
        return "usually ready within a few minutes"
    minutes = math.ceil(max(durations).total_seconds() / 60)
    if minutes <= 1:
        return "usually ready within a minute"
    return f"usually ready within {minutes} minutes"
