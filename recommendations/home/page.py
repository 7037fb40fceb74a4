"""A whole home page: which rows, in what order, each title at most twice.

:func:`home_page` is the one entry: it decides whether the page is personal
(:func:`page_builder`, with the note that says why not), has a
:class:`RowBuilder` build every row (``shared``, ``personal``), orders them
(engagement, exploration, pinned collections), de-duplicates them and reads
the titles shown in one query. :func:`home_for_tastes` is the staff preview.
"""

import hashlib
import math
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import urlencode

import numpy as np
from django.conf import settings as conf
from django.utils import timezone

from accounts.models import Profile
from activity.models import Feedback
from activity.selectors import row_controls
from catalog.models import Title
from config.links import reverse_pk
from consent.context import Region
from consent.models import PrivacySettings
from consent.policy import settings_for
from recommendations.engine import rerank
from recommendations.engine.artifact import ArtifactError
from recommendations.engine.recommender import History, Recommender, in_order
from recommendations.home.context import viewer_region
from recommendations.home.personal import PersonalRows
from recommendations.home.rows import (
    ENGAGEMENT_RISE,
    FIRST_SCREEN,
    MATCH_ROW_KINDS,
    MAX_PER_PAGE,
    NEW_BADGE_ROW_KINDS,
    PERSONAL_ORDER,
    REPEATABLE,
    SHARED_ORDER,
    SHELVES,
    HomePage,
    Interleave,
    Origin,
    Row,
    RowDraft,
)
from recommendations.home.shared import SharedRows
from recommendations.home.signals import Candidates, Signals, load_signals
from recommendations.home.snapshot import catalog_snapshot
from recommendations.models import ModelVersion, ProfileCandidates
from recommendations.services import experiments, training
from recommendations.services.dataset import profile_histories


class UnknownMood(ValueError):
    pass


class RowBuilder(PersonalRows, SharedRows):
    """Builds every row of one page; each row's method returns a
    :class:`RowDraft` (or None), :meth:`page` orders, de-duplicates and reads
    the titles."""

    def shared_drafts(self) -> list[RowDraft]:
        drafts = [self.trending(), self.popular_in_region(), self.top10(), self.new()]
        drafts += self.popular_genres()
        return [d for d in drafts if d is not None]

    def personal_drafts(self) -> list[RowDraft]:
        drafts = [
            self.continue_watching(),
            self.short_on_time(),
            self.top_picks(),
            *self.because(),
            self.trending(),
            self.popular_in_region(),
            self.my_list(),
            self.top10(),
            *self.genre_rows(),
            self.gems(),
            self.new(),
            self.outside(),
        ]
        return [d for d in drafts if d is not None]

    def page(self, profile: Profile | None, note: str = "") -> HomePage:
        """Every row built, ordered and de-duplicated, with its titles read
        (one query); ``note`` says why the rows are not personal."""
        drafts = self.personal_drafts() if self.personal else self.shared_drafts()
        drafts += self.collection_drafts()
        progress = {t: state for d in drafts for t, state in d.progress.items()}
        kept = _dedupe(self.order(drafts))
        excluded = sorted(self.signals.seed_exclusions) if self.signals else []
        wanted = {t for d in kept for t in d.ids}
        wanted |= {d.seed_id for d in kept if d.seed_id} | set(excluded)
        titles = self.fetch(profile, wanted)
        matches = self.matches(titles)
        new = self.new_titles(
            t for d in kept if d.kind in NEW_BADGE_ROW_KINDS for t in d.ids
        )
        rows = []
        for d in kept:
            seed = titles.get(d.seed_id) if d.seed_id else None
            if d.seed_id and seed is None:
                continue
            row_titles = []
            for rank, t in enumerate(d.ids, start=1):
                if t not in titles:
                    continue
                title = _copy(titles[t])
                # "Why this?" says first why the title is in this row.
                title.row_key = d.key
                title.why_url = f"{title.why_url}?{urlencode({'row': d.key})}"
                title.match = matches[t] if d.kind in MATCH_ROW_KINDS else None
                title.why = d.why.get(t, "")
                title.is_new = d.kind in NEW_BADGE_ROW_KINDS and t in new
                if seed is not None:
                    title.why = title.why.replace("{seed}", seed.title)
                title.rank = d.ranks.get(t, rank)
                title.viewing_id, title.progress = progress.get(t, (None, None))
                title.ranker = d.rankers.get(t, "")
                row_titles.append(title)
            if any(title.match is None for title in row_titles):
                for title in row_titles:  # one kind of line on every card
                    title.match = None
            elif row_titles:
                # The order is the ranking's (and a row's own re-ranking);
                # the match is the rating model's. A card never shows a
                # higher match than the card before it: where they disagree
                # the stretch shares its mean (``engine.recommender.in_order``).
                agreed = in_order(np.array([t.match for t in row_titles], float))
                for title, match in zip(row_titles, agreed, strict=True):
                    title.match = round(match)
            if row_titles:
                rows.append(
                    Row(
                        key=d.key,
                        kind=d.kind,
                        name=d.name.replace("{seed}", seed.title) if seed else d.name,
                        reason=d.reason,
                        titles=row_titles,
                        seed_id=d.seed_id,
                        more_url=d.more_url,
                    )
                )
        return HomePage(
            rows=rows,
            personalized=self.personal,
            note=note,
            bubble=self.bubble(rows),
            excluded_seeds=[titles[t] for t in excluded if t in titles],
            model_version_id=self.origin.model_version_id,
            experiment_id=self.origin.experiment_id,
            arm=self.origin.arm,
        )

    def fetch(self, profile: Profile | None, ids: set[int]) -> dict[int, Title]:
        """The titles, in one query, with the snapshot's rating count and mean.

        Each row gets its own copy of a title (with its own ``why``).
        """
        if not ids:
            return {}
        # Only what a card shows: loading whole titles cost a sixth of a page.
        found = (
            Title.objects.for_profile(profile)
            .only("id", "title", "year")
            .in_bulk(sorted(ids))
        )
        pos = self.snap.index(found)
        out = {}
        for (t, title), p in zip(found.items(), pos, strict=True):
            if p < 0 or (self.kids and not self.snap.kids_ok[p]):
                continue
            title.rating_count = int(self.snap.rating_count[p])
            mean = self.snap.rating_mean[p]
            title.rating_mean = None if np.isnan(mean) else float(mean)
            title.why_url = reverse_pk("recommendations:why", t)
            out[t] = title
        return out

    def bubble(self, rows: list[Row]) -> list[tuple[str, float, float]]:
        shown = self.snap.index({t.pk for row in rows for t in row.titles})
        shown = shown[shown >= 0]
        if len(shown) == 0 or not self.snap.genre_order:
            return []
        page_mix = rerank.genre_distribution(self.snap.features[shown])
        catalog_mix = rerank.genre_distribution(self.snap.features[self.visible])
        out = [
            (self.snap.genre_names[g], float(page_mix[j]), float(catalog_mix[j]))
            for j, g in enumerate(self.snap.genre_order)
            if page_mix[j] > 0 or catalog_mix[j] > 0
        ]
        return sorted(out, key=lambda b: (-b[1], -b[2], b[0]))

    def order(self, drafts: list[RowDraft]) -> list[RowDraft]:
        base = PERSONAL_ORDER if self.personal else SHARED_ORDER
        engagement = self.signals.engagement if self.personal else {}

        first = {kind: n for n, kind in enumerate(self.row_order)}

        def place(d: RowDraft) -> tuple[int, float, int]:
            index = base.index(d.slot)
            if d.kind == "continue":
                return (0, 0, index)
            if d.kind in first:
                # A test's (or the site's) order: these kinds next, in it.
                return (1, first[d.kind], index)
            rise = ENGAGEMENT_RISE * math.floor(
                math.log2(1 + engagement.get(d.kind, 0))
            )
            if d.kind == "outside":
                rise += self.exploration // 20
            return (2, index - rise - 0.5 if rise else index, index)

        rows = sorted((d for d in drafts if d.pinned is None), key=place)
        for d in sorted(
            (d for d in drafts if d.pinned is not None), key=lambda d: d.pinned
        ):
            rows.insert(min(d.pinned, len(rows)), d)
        return rows


def _copy(title: Title) -> Title:
    """A shallow copy of a fetched title (its own ``why``, ``rank``...);
    ``copy.copy`` goes through Django's pickling hooks, ten times slower."""
    twin = Title.__new__(Title)
    twin.__dict__ = title.__dict__.copy()
    return twin


def _dedupe(drafts: list[RowDraft]) -> list[RowDraft]:
    """Keeps each row's best titles such that a title shows in one row of
    suggestions only, at most once in the first screen and at most
    :data:`MAX_PER_PAGE` times on the page (charts and collections may
    repeat one); shelves stay whole and hold nothing back; drops rows left
    too short."""
    shown: Counter[int] = Counter()
    first_screen: set[int] = set()
    kept: list[RowDraft] = []
    for d in drafts:
        shelf = d.kind in SHELVES
        limit = MAX_PER_PAGE if d.kind in REPEATABLE else 1
        on_first = len(kept) < FIRST_SCREEN
        picks: list[int] = []
        for t in d.ids:
            if len(picks) == d.max_len:
                break
            if t in picks or (
                not shelf and (shown[t] >= limit or (on_first and t in first_screen))
            ):
                continue
            picks.append(t)
        # A row that de-duplication left too short goes; a short row by
        # nature (a small catalog, one title in progress) stays.
        if not picks or len(picks) < min(d.min_len, len(set(d.ids))):
            continue
        kept.append(replace(d, ids=picks))
        if not shelf:
            shown.update(picks)
            if on_first:
                first_screen.update(picks)
    return kept


# --- the page of a profile, a visitor, a made-up taste -----------------------------


def mood_for(key: str | None) -> rerank.Mood | None:
    """The mood of a chip's key; None for none; :class:`UnknownMood` otherwise."""
    if not key:
        return None
    try:
        return rerank.MOODS[key]
    except KeyError:
        raise UnknownMood(key) from None


def context_for(
    profile: Profile | None,
    *,
    now: datetime | None,
    device: str,
    hour: int | None = None,
) -> rerank.Context | None:
    """Time of day (``hour``, else the local hour ``now``) and device, only for
    a profile that allows contextual signals."""
    if profile is None or not settings_for(profile).contextual_signals:
        return None
    if hour is None:
        hour = timezone.localtime(now or timezone.now()).hour
    return rerank.Context(hour=hour, device=device if device in rerank.DEVICES else "")


def context_bucket(ctx: rerank.Context | None) -> str:
    """What of the context changes the rows (for cache keys)."""
    if ctx is None:
        return ""
    return f"{'late' if ctx.is_late else ''}{'mobile' if ctx.is_mobile else ''}"


@dataclass(frozen=True)
class Tuning:
    """What the home page's controls set for one page, instead of the
    profile's saved settings (``None``: the saved one): exploration 0–100,
    calibration, and the hour of its context (0–23, local time)."""

    exploration: int | None = None
    calibration: bool | None = None
    hour: int | None = None

    def over(self, settings: PrivacySettings) -> "Tuning":
        """These values where given, the profile's where not: its own, else
        its test arm's or the site's default (``experiments.effective_tuning``)."""
        exploration, calibration = experiments.effective_tuning(settings.profile)
        return Tuning(
            exploration=exploration if self.exploration is None else self.exploration,
            calibration=calibration if self.calibration is None else self.calibration,
            hour=self.hour,
        )


SAVED = Tuning()


def home_page(
    *,
    profile: Profile | None,
    mood: str | None = None,
    now: datetime | None = None,
    device: str = "",
    tuning: Tuning = SAVED,
) -> HomePage:
    """The home page of ``profile`` (or of a visitor without one).

    Raises :class:`UnknownMood` for a mood that is not in ``rerank.MOODS``.
    """
    builder, note = page_builder(
        profile=profile, mood=mood, now=now, device=device, tuning=tuning
    )
    return builder.page(profile, note)


def page_builder(
    *,
    profile: Profile | None,
    mood: str | None = None,
    now: datetime | None = None,
    device: str = "",
    tuning: Tuning = SAVED,
) -> tuple[RowBuilder, str]:
    """What builds the profile's rows, and the note when they are not personal.

    ``tuning`` stands in for the saved exploration and calibration (a page
    previewed with other values: nothing is saved) and for the clock's hour.

    A profile in a test (``services.experiments.arm_for``) gets its arm's
    page: its exploration and calibration where the viewer set none, its
    row order, candidates from its model version (the history folded into
    that model now), or for an interleaving test Top picks drawn from both
    arms' rankings. The page says which (``HomePage.experiment_id``, ``arm``).
    """
    mood_obj = mood_for(mood)
    now = now or timezone.now()
    if profile is None:
        return _shared_builder(kids=False, hidden=set(), mood=mood_obj, now=now), ""
    kids = profile.is_kids
    settings = settings_for(profile)
    controls = row_controls(profile)
    filters, fewer = controls.filters, controls.show_fewer
    hidden = set(filters.genre_ids)
    region = viewer_region(profile)
    shared = _shared_builder(
        kids=kids,
        hidden=hidden,
        mood=mood_obj,
        now=now,
        region=region,
        hidden_titles=filters.title_ids,
        show_fewer=fewer,
    )
    if not settings.personalization:
        return shared, personalization_off_note(profile)
    stored = (
        ProfileCandidates.objects.filter(profile=profile)
        .values_list(
            "model_version_id", "title_ids", "scores", "predicted", "updated_at"
        )
        .first()
    )
    serving = training.serving_model()
    if serving is None:
        return shared, no_model_note()
    if stored is None or stored[0] is None:
        return shared, new_profile_note(profile)
    signals = load_signals(profile)
    if not signals.has_signal:
        return shared, new_profile_note(profile)
    choice = experiments.arm_for(profile)
    if choice is not None and choice.arm is None and tuning != SAVED:
        # A page asked with its own values is no interleaving test's page.
        choice = None
    version_id, model = stored[0], serving[1]
    candidates = Candidates.of(*stored[1:4])
    arm_version = experiments.arm_model_version(choice)
    if arm_version is not None and arm_version.pk != version_id:
        folded = _folded_in(profile, arm_version)
        if folded is not None:
            version_id, (model, candidates) = arm_version.pk, folded
    exploration, calibration = experiments.tuning_under(
        settings, choice.config if choice else {}
    )
    interleave = None
    if choice is not None and choice.arm is None:
        a, b = choice.experiment.arms[:2]
        interleave = Interleave(
            seed=interleave_seed(choice.experiment.id, profile.pk, stored[4]),
            a=(a.key, *experiments.tuning_under(settings, a.config)),
            b=(b.key, *experiments.tuning_under(settings, b.config)),
        )
    builder = RowBuilder(
        snap=shared.snap,
        kids=kids,
        hidden=hidden,
        mood=mood_obj,
        now=now,
        signals=signals,
        candidates=candidates,
        model=model,
        exploration=exploration if tuning.exploration is None else tuning.exploration,
        calibration=calibration if tuning.calibration is None else tuning.calibration,
        context=context_for(profile, now=now, device=device, hour=tuning.hour),
        profile_name=profile.name,
        region=region,
        hidden_titles=filters.title_ids,
        show_fewer=fewer,
        row_order=experiments.row_order_for(choice),
        interleave=interleave,
        origin=Origin(
            model_version_id=version_id,
            experiment_id=choice.experiment.id if choice else None,
            arm=choice.page_arm if choice else "",
        ),
    )
    return builder, ""


def interleave_seed(experiment_id: int, profile_id: int, updated: datetime) -> int:
    """The team draft's seed: the same page for the same candidates."""
    text = f"{experiment_id}:{profile_id}:{updated.timestamp()}"
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def _folded_in(
    profile: Profile, version: ModelVersion
) -> tuple[Recommender, Candidates] | None:
    """The profile's candidates from ``version`` (an arm's model), its
    history folded into that model now, as ``services.candidates`` does for
    the serving one; None when the version's file fails."""
    try:
        model = training.recommender_for(version)
    except ArtifactError:
        return None
    (history,) = profile_histories([profile.pk])
    history = History(**{**history.__dict__, "use_trained_vector": False})
    (found,) = model.candidates([history], count=conf.RECOMMENDER["CANDIDATES"])
    return model, Candidates.of(found.title_ids, found.scores, found.predicted)


def home_for_tastes(
    *, genre_ids: list[int], title_ids: list[int], kids: bool = False
) -> HomePage:
    """The rows a new profile with these picks would get (staff preview).

    A made-up history (the picked titles, and the five most rated titles of
    each picked genre, as onboarding picks) is folded into the active model;
    nothing is written and no real profile is read.
    """
    now = timezone.now()
    serving = training.serving_model()
    snap = catalog_snapshot()
    if serving is None:
        return _shared_page(
            kids=kids, hidden=set(), mood=None, now=now, note=no_model_note()
        )
    visible = snap.kids_ok if kids else np.ones(len(snap.ids), dtype=bool)
    picks: list[int] = []
    for t, pos in zip(title_ids, snap.index(title_ids), strict=True):
        if pos >= 0 and visible[pos] and t not in picks:
            picks.append(int(t))
    for genre_id in genre_ids:
        if genre_id not in snap.genre_order:
            continue
        col = snap.genre_column(genre_id)
        members = np.flatnonzero((snap.features[:, col] > 0) & visible)
        best = members[np.argsort(-snap.rating_count[members], kind="stable")][:5]
        picks += [int(snap.ids[i]) for i in best if int(snap.ids[i]) not in picks]
    if not picks:
        return _shared_page(
            kids=kids,
            hidden=set(),
            mood=None,
            now=now,
            note=("Pick some titles or genres to see the rows they would lead to."),
        )
    model = serving[1]
    history = History(
        profile_id=-1,
        items=np.array(picks, dtype=np.int64),
        values=np.full(len(picks), 4.0),
        hidden=np.zeros(0, dtype=np.int64),
        use_trained_vector=False,
    )
    (found,) = model.candidates([history], count=300)
    signals = Signals(
        feedback={t: {Feedback.Kind.PICK} for t in picks}, picks_seed=True
    )
    builder = RowBuilder(
        snap=snap,
        kids=kids,
        hidden=set(),
        mood=None,
        now=now,
        signals=signals,
        candidates=Candidates.of(found.title_ids, found.scores, found.predicted),
        model=model,
        exploration=PrivacySettings._meta.get_field("exploration").default,
        calibration=PrivacySettings._meta.get_field("calibration").default,
        context=None,
        profile_name="this taste",
    )
    return builder.page(None)


def personalization_off_note(profile: Profile) -> str:
    return (
        f"Personalized rows are off for {profile.name}: these rows are the same "
        "for everyone, and nothing you watch or rate is used to choose them."
    )


def new_profile_note(profile: Profile) -> str:
    return (
        f"Marquee doesn’t know what {profile.name} likes yet, so these rows are "
        "the same for everyone. Rate a few titles or pick some favourites and "
        "they become yours."
    )


def no_model_note() -> str:
    return (
        "Personal recommendations aren’t ready yet: these rows are the same for "
        "everyone until the first model is trained."
    )


def _shared_page(
    *,
    kids: bool,
    hidden: set[int],
    mood: rerank.Mood | None,
    now: datetime,
    note: str,
) -> HomePage:
    return _shared_builder(kids=kids, hidden=hidden, mood=mood, now=now).page(
        None, note
    )


def _shared_builder(
    *,
    kids: bool,
    hidden: set[int],
    mood: rerank.Mood | None,
    now: datetime,
    region: Region | None = None,
    hidden_titles: frozenset[int] = frozenset(),
    show_fewer: frozenset[int] = frozenset(),
) -> RowBuilder:
    return RowBuilder(
        snap=catalog_snapshot(),
        kids=kids,
        hidden=hidden,
        mood=mood,
        now=now,
        signals=None,
        candidates=None,
        model=None,
        exploration=0,
        calibration=False,
        context=None,
        profile_name="",
        region=region,
        hidden_titles=hidden_titles,
        show_fewer=show_fewer,
        row_order=experiments.serving_defaults().row_order,
    )
