""" "Why this?": why a title may be on a profile's home, in a few sentences.

Read afresh from the data the profile still has (once a rating is erased, the
sentences it supported are gone), and only what the sentences need: the
profile's signals and taste, the rank of the title among its candidates,
the trending chart, its seeds' nearest titles and the collections holding
it. No row is built.

:func:`why_many` answers for many titles at once (the API's home page gives
every card its sentences): what the sentences need is read once, not once a
title; :func:`why_this` is it for one title.
"""

from collections.abc import Sequence

from accounts.models import Profile
from catalog.models import Collection, Title
from consent.policy import hidden_genre_ids, settings_for
from recommendations.home.rows import (
    NEIGHBOURS,
    OUTSIDE_MAX_SHARE,
    ROW_LENGTH,
    RankedCandidates,
    match_percent,
    ratings_label,
    recommendable_titles,
    top_genres,
    visible_titles,
)
from recommendations.home.signals import (
    Candidates,
    Signals,
    load_signals,
    taste_vector,
)
from recommendations.home.snapshot import catalog_snapshot, charts
from recommendations.models import ProfileCandidates
from recommendations.services import training

PERSONALIZATION_OFF = "Your personalized rows are off, so nothing you did chose it."


def why_this(*, profile: Profile, title: Title) -> list[str]:
    """Why ``title`` may be on the profile's home, from data it still has."""
    return why_many(profile=profile, title_ids=[title.pk])[title.pk]


def why_everyone(title: Title) -> list[str]:
    """Why a title is on the rows everyone gets (no personal data)."""
    return why_everyone_many([title.pk])[title.pk]


def why_many(*, profile: Profile, title_ids: Sequence[int]) -> dict[int, list[str]]:
    """:func:`why_this` of each title, reading what the sentences need once."""
    settings = settings_for(profile)
    if not settings.personalization:
        everyone = why_everyone_many(title_ids)
        return {t: [*everyone[t], PERSONALIZATION_OFF] for t in title_ids}
    snap = catalog_snapshot()
    signals = load_signals(profile)
    serving = training.serving_model()
    stored = (
        ProfileCandidates.objects.filter(profile=profile)
        .values_list("title_ids", "scores", "predicted")
        .first()
    )
    model = serving[1] if serving is not None else None
    candidates, gems = None, set()
    if stored and model is not None:
        visible = visible_titles(
            snap,
            kids=profile.is_kids,
            hidden=hidden_genre_ids(settings),
            signals=signals,
        )
        candidates = RankedCandidates.of(
            snap, Candidates.of(*stored), recommendable_titles(snap, visible, signals)
        )
        gems = set(candidates.gem_positions(snap).tolist())
    seeds = _Seeds(model, signals) if model is not None else None
    taste = taste_vector(snap, signals)
    strongest = top_genres(snap, taste)
    trending = _trending_ids()
    collections = _collections_of(title_ids)
    started = {v.title_id for v in signals.viewings if not v.completed}
    out = {}
    for t, pos in zip(title_ids, snap.index(title_ids).tolist(), strict=True):
        reasons: list[str] = []
        if t in signals.ratings:
            reasons.append(f"You rated it {signals.ratings[t][0]:g}★.")
        if t in signals.my_list:
            reasons.append("It’s on your My List.")
        if t in started:
            reasons.append("You started watching it.")
        if seeds is not None:
            reasons += seeds.lines(t)
        predicted = (
            candidates.predicted_at(pos)
            if candidates is not None and pos >= 0
            else None
        )
        if predicted is not None:
            reasons.append(
                f"We predict you’d rate it {predicted:.1f}★ "
                f"({match_percent(predicted)}% match)."
            )
            if pos in gems:
                reasons.append("Few viewers know it, but it’s close to your taste.")
        if pos >= 0:
            yours = [
                snap.genre_names[g]
                for g in strongest
                if snap.features[pos, snap.genre_column(g)] > 0
            ]
            if yours and t in trending:
                reasons.append(f"Trending in {yours[0]}, a genre you watch often.")
            elif yours:
                reasons.append(f"{yours[0]} is a genre you watch often.")
            elif t in trending:
                reasons.append("Trending on Marquee right now.")
            if taste.sum() > 0 and snap.features[pos].any():
                usual = snap.features[pos] * (taste >= OUTSIDE_MAX_SHARE)
                if not usual.any():
                    reasons.append("It’s outside the genres you usually watch.")
        reasons += collections.get(t, [])
        out[t] = reasons or _everyone(snap, t, pos, trending, collections)
    return out


def why_everyone_many(title_ids: Sequence[int]) -> dict[int, list[str]]:
    """:func:`why_everyone` of each title, reading the charts and collections once."""
    snap = catalog_snapshot()
    trending = _trending_ids()
    collections = _collections_of(title_ids)
    return {
        t: _everyone(snap, t, pos, trending, collections)
        for t, pos in zip(title_ids, snap.index(title_ids).tolist(), strict=True)
    }


def _everyone(
    snap, title_id: int, pos: int, trending: set[int], collections: dict
) -> list[str]:
    reasons = []
    if title_id in trending:
        reasons.append("Trending on Marquee right now.")
    reasons += collections.get(title_id, [])
    if pos >= 0 and snap.rating_count[pos]:
        reasons.append(f"Viewers rate it {ratings_label(snap, pos)}.")
    return reasons or ["It’s new on Marquee."]


def _trending_ids() -> set[int]:
    """The titles high enough on the trending chart to say so."""
    return {t for t, _ in charts().trending[: 3 * ROW_LENGTH]}


class _Seeds:
    """ "You rated Heat 5★; viewers who liked Heat loved this.": the profile's
    seeds whose nearest titles hold a title, at most two, newest seed first.
    Each seed's nearest titles are looked up once, when first needed."""

    def __init__(self, model, signals: Signals) -> None:
        self.model = model
        seeds = signals.seeds()
        names = dict(
            Title.objects.filter(pk__in=[t for t, _ in seeds]).values_list(
                "pk", "title"
            )
        )
        self.seeds = [(seed, how, names[seed]) for seed, how in seeds if seed in names]
        self.nearest: dict[int, set[int]] = {}

    def lines(self, title_id: int) -> list[str]:
        lines = []
        for seed, how, name in self.seeds:
            if seed not in self.nearest:
                found, _ = self.model.ranking.nearest(seed, NEIGHBOURS)
                self.nearest[seed] = set(found.tolist())
            if title_id in self.nearest[seed]:
                lines.append(
                    f"You {_seed_phrase(how, name)}; viewers who liked {name} "
                    "loved this."
                )
                if len(lines) == 2:
                    break
        return lines


def _seed_phrase(how: str, name: str) -> str:
    """ "rated Heat 5★", "watched Heat", "picked Heat"."""
    verb, _, detail = how.partition(" ")
    if verb == "liked":
        verb = "picked"
    return f"{verb} {name} {detail}".strip()


def _collections_of(title_ids: Sequence[int]) -> dict[int, list[str]]:
    """ "Picked by our editors for “…”." for each title in an active collection."""
    found = (
        Collection.objects.active()
        .filter(items__title__in=list(title_ids))
        .order_by("position", "name")
        .values_list("items__title", "name")
    )
    out: dict[int, list[str]] = {}
    for title_id, name in found:
        out.setdefault(title_id, []).append(f"Picked by our editors for “{name}”.")
    return out
