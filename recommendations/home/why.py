""" "Why this?": why a title may be on a profile's home, in a few sentences.

Read afresh from the data the profile still has (once a rating is erased, the
sentences it supported are gone), and only what the sentences need: the
profile's signals and taste, the rank of the title among its candidates,
the trending chart, its seeds' nearest titles and the collections holding
it. No row is built.
"""

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


def why_this(*, profile: Profile, title: Title) -> list[str]:
    """Why ``title`` may be on the profile's home, from data it still has."""
    settings = settings_for(profile)
    snap = catalog_snapshot()
    pos = int(snap.index([title.pk])[0])
    if not settings.personalization:
        return [
            *why_everyone(title),
            "Your personalized rows are off, so nothing you did chose it.",
        ]
    signals = load_signals(profile)
    serving = training.serving_model()
    stored = (
        ProfileCandidates.objects.filter(profile=profile)
        .values_list("title_ids", "scores", "predicted")
        .first()
    )
    model = serving[1] if serving is not None else None
    reasons: list[str] = []
    if title.pk in signals.ratings:
        reasons.append(f"You rated it {signals.ratings[title.pk][0]:g}★.")
    if title.pk in signals.my_list:
        reasons.append("It’s on your My List.")
    if any(v.title_id == title.pk and not v.completed for v in signals.viewings):
        reasons.append("You started watching it.")
    if model is not None:
        reasons += _why_seeds(model, signals, title)
    if stored and model is not None and pos >= 0:
        visible = visible_titles(
            snap,
            kids=profile.is_kids,
            hidden=hidden_genre_ids(settings),
            signals=signals,
        )
        candidates = RankedCandidates.of(
            snap, Candidates.of(*stored), recommendable_titles(snap, visible, signals)
        )
        predicted = candidates.predicted_at(pos)
        if predicted is not None:
            reasons.append(
                f"We predict you’d rate it {predicted:.1f}★ "
                f"({match_percent(predicted)}% match)."
            )
            if pos in set(candidates.gem_positions(snap).tolist()):
                reasons.append("Few viewers know it, but it’s close to your taste.")
    taste = taste_vector(snap, signals)
    if pos >= 0:
        yours = [
            snap.genre_names[g]
            for g in top_genres(snap, taste)
            if snap.features[pos, snap.genre_column(g)] > 0
        ]
        trending = _trending_rank(title.pk)
        if yours and trending is not None:
            reasons.append(f"Trending in {yours[0]}, a genre you watch often.")
        elif yours:
            reasons.append(f"{yours[0]} is a genre you watch often.")
        elif trending is not None:
            reasons.append("Trending on Marquee right now.")
        if taste.sum() > 0 and snap.features[pos].any():
            usual = snap.features[pos] * (taste >= OUTSIDE_MAX_SHARE)
            if not usual.any():
                reasons.append("It’s outside the genres you usually watch.")
    reasons += _why_collections(title)
    if not reasons:
        reasons = why_everyone(title)
    return reasons


def why_everyone(title: Title) -> list[str]:
    """Why a title is on the rows everyone gets (no personal data)."""
    snap = catalog_snapshot()
    pos = int(snap.index([title.pk])[0])
    reasons = []
    if _trending_rank(title.pk) is not None:
        reasons.append("Trending on Marquee right now.")
    reasons += _why_collections(title)
    if pos >= 0 and snap.rating_count[pos]:
        reasons.append(f"Viewers rate it {ratings_label(snap, pos)}.")
    return reasons or ["It’s new on Marquee."]


def _trending_rank(title_id: int) -> int | None:
    for n, (t, _) in enumerate(charts().trending[: 3 * ROW_LENGTH], start=1):
        if t == title_id:
            return n
    return None


def _why_seeds(model, signals: Signals, title: Title) -> list[str]:
    lines = []
    seeds = signals.seeds()
    names = dict(
        Title.objects.filter(pk__in=[t for t, _ in seeds]).values_list("pk", "title")
    )
    for seed, how in seeds:
        if seed not in names:
            continue
        nearest, _ = model.ranking.nearest(seed, NEIGHBOURS)
        if title.pk in nearest.tolist():
            name = names[seed]
            lines.append(
                f"You {_seed_phrase(how, name)}; viewers who liked {name} loved this."
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


def _why_collections(title: Title) -> list[str]:
    names = (
        Collection.objects.active()
        .filter(items__title=title)
        .order_by("position", "name")
        .values_list("name", flat=True)
    )
    return [f"Picked by our editors for “{name}”." for name in names]
