""" "Why this?": why a title is on a profile's home, in a few sentences that
never contradict each other.

A card's sentences come from one source, :func:`why_cards`: first the reason
the title is in the row the card sits in (the row's key: its kind and, for
"Because you…", its seed, for a genre row its genre, for a collection its
slug), then the signals that agree with it, strongest first, at most
:data:`MAX_SENTENCES` in all. Opened without a row (from a title page), the
same sentences without the lead.

Each sentence makes claims (:class:`Reason`); two claims in
:data:`CONTRADICTIONS` never stand on one card: the stronger sentence, the
row's own reason first, keeps the other out (a sentence may offer a weaker
fallback that agrees: "Trending in Drama, a genre you watch often" becomes
"Drama is a genre you watch often" next to "Few viewers know it").

Signals, strongest first (a signal about this very title before one about
titles like it, the model's before the catalog's):

1. what the profile did with it: rated it, put it on My List, started it;
2. a title it liked whose viewers loved this one: the liked titles with
   the largest parts ``x_j · B_ji`` of the title's ranking score, at most
   two, each one without which the score would fall
   (``Recommender.explain``): never a title that did not raise it;
3. the predicted rating (the profile's candidates);
4. a hidden gem: few viewers know it, close to its taste;
5. its genres: one it watches often (and trending), or trending alone;
6. outside the genres it usually watches;
7. the curators' collections holding it.

Without personalization only what everyone gets is said (trending, the
collections, viewers' ratings), then that nothing the profile did chose it.

Read afresh from the data the profile still has (once a rating is erased,
the sentences it supported are gone, the row's lead too: a lead the data no
longer supports is left out), and only what the sentences need; no row is
built. What the sentences need is read once for many cards (the API's home
page gives every card its sentences).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from accounts.models import Profile
from catalog.models import Collection, Title
from config.links import parse_id
from consent.policy import hidden_genre_ids, settings_for
from recommendations.home.context import viewer_region
from recommendations.home.rows import (
    GENRE_ROW_MIN_SHARE,
    OUTSIDE_MAX_SHARE,
    ROW_LENGTH,
    SHORT_RUNTIME,
    HomePage,
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
from recommendations.services.dataset import profile_histories
from recommendations.services.regions import region_chart

PERSONALIZATION_OFF = "Your personalized rows are off, so nothing you did chose it."
#: A card says at most this many sentences: the row's reason and the
#: strongest signals that agree with it (and, without personalization, that
#: nothing the profile did chose it).
MAX_SENTENCES = 4

# --- claims, and which contradict ------------------------------------------------------

FEW_VIEWERS = "few-viewers"  # "Few viewers know it"
POPULAR = "popular"  # trending, the Top 10, "Popular in …", liked in a region
YOUR_GENRES = "your-genres"  # "a genre you watch often"
CLOSE_TO_TASTE = "close-to-taste"  # "close to your taste"
OUTSIDE_YOUR_GENRES = "outside-your-genres"  # "outside the genres you usually watch"
YOUR_HISTORY = "your-history"  # you rated, watched, picked, saved it or its seed
PREDICTED = "predicted"  # "We predict you’d rate it…"
NOT_PERSONAL = "not-personal"  # "nothing you did chose it"

#: Claims that never stand on one card.
CONTRADICTIONS: frozenset[frozenset[str]] = frozenset(
    frozenset(pair)
    for pair in (
        (FEW_VIEWERS, POPULAR),
        (OUTSIDE_YOUR_GENRES, YOUR_GENRES),
        (OUTSIDE_YOUR_GENRES, CLOSE_TO_TASTE),
        (NOT_PERSONAL, YOUR_GENRES),
        (NOT_PERSONAL, CLOSE_TO_TASTE),
        (NOT_PERSONAL, OUTSIDE_YOUR_GENRES),
        (NOT_PERSONAL, YOUR_HISTORY),
        (NOT_PERSONAL, PREDICTED),
    )
)


def contradict(a: Iterable[str], b: Iterable[str]) -> bool:
    """Whether claims ``a`` and claims ``b`` cannot stand on one card."""
    return any(frozenset({x, y}) in CONTRADICTIONS for x in a for y in b)


@dataclass(frozen=True)
class Reason:
    """One sentence, what it claims, and what it is about (a sentence about
    a topic already said is not said twice)."""

    text: str
    claims: frozenset[str] = frozenset()
    topics: frozenset[str] = frozenset()
    #: Said instead when this one contradicts what the card already says.
    fallback: "Reason | None" = None


def _reason(text: str, claims=(), topics=(), fallback=None) -> Reason:
    return Reason(text, frozenset(claims), frozenset(topics), fallback)


def agreeing(reasons: Iterable[Reason]) -> list[Reason]:
    """``reasons`` in order, leaving out each one that contradicts one kept
    before it (or its fallback, if that agrees) or repeats its topic."""
    kept: list[Reason] = []
    for reason in reasons:
        while reason is not None:
            if not any(
                contradict(reason.claims, k.claims) or reason.topics & k.topics
                for k in kept
            ):
                kept.append(reason)
                break
            reason = reason.fallback
    return kept


# --- the row a card sits in --------------------------------------------------------

#: Row kinds whose key is the kind (``rows.Row.key``).
_PLAIN_KINDS = frozenset(
    {
        "continue",
        "short",
        "top-picks",
        "trending",
        "region",
        "my-list",
        "top10",
        "gems",
        "new",
        "outside",
    }
)


@dataclass(frozen=True)
class RowRef:
    """The row a card sits in, from its key: ``top-picks``, ``because-<seed
    id>``, ``genre-<genre slug>``, ``collection-<slug>``…"""

    kind: str
    seed_id: int | None = None
    slug: str = ""

    @classmethod
    def parse(cls, key: str | None) -> "RowRef | None":
        """The row of ``key``; None for none or one that is no row's."""
        if not key:
            return None
        if key in _PLAIN_KINDS:
            return cls(kind=key)
        kind, _, rest = key.partition("-")
        if kind == "because" and parse_id(rest) is not None:
            return cls(kind=kind, seed_id=parse_id(rest))
        if kind in ("genre", "collection") and rest:
            return cls(kind=kind, slug=rest)
        return None


# --- the sentences --------------------------------------------------------------------


def why_cards(
    *, profile: Profile | None, cards: Sequence[tuple[str | None, int]]
) -> dict[tuple[str | None, int], list[str]]:
    """The sentences of each card, (row key or None, title id), reading what
    they need once: the reason the title is in that row first, then the
    signals that agree with it, strongest first."""
    facts = _Facts(profile, [t for _, t in cards])
    out = {}
    for key, t in cards:
        if (key, t) not in out:
            out[key, t] = facts.sentences(RowRef.parse(key), t)
    return out


def why_page(
    *, profile: Profile | None, page: HomePage
) -> dict[tuple[str | None, int], list[str]]:
    """The sentences of every card of a built home page, by (row key, title)."""
    return why_cards(
        profile=profile,
        cards=[(row.key, title.pk) for row in page.rows for title in row.titles],
    )


def why_this(*, profile: Profile, title: Title, row: str | None = None) -> list[str]:
    """Why ``title`` is on the profile's home (in ``row``, a row's key, when
    given), from data it still has."""
    return why_cards(profile=profile, cards=[(row, title.pk)])[row, title.pk]


def why_everyone(title: Title, row: str | None = None) -> list[str]:
    """Why a title is on the rows everyone gets (no personal data)."""
    return why_cards(profile=None, cards=[(row, title.pk)])[row, title.pk]


class _Facts:
    """What the sentences of some cards need, read once."""

    def __init__(self, profile: Profile | None, title_ids: Sequence[int]) -> None:
        self.profile = profile
        self.snap = snap = catalog_snapshot()
        chart = charts()
        self.trending_chart = {t for t, _ in chart.trending}
        #: High enough on the trending chart to say so off the Trending row.
        self.trending = {t for t, _ in chart.trending[: 3 * ROW_LENGTH]}
        self.top10 = set(chart.top10)
        self.collections = _collections_of(title_ids)
        self._region_titles: set[int] | None = None
        settings = settings_for(profile) if profile is not None else None
        self.personal = settings is not None and settings.personalization
        self.personal_page = False
        self.signals: Signals | None = None
        self.candidates: RankedCandidates | None = None
        self.gems: set[int] = set()
        self.seeds: _Seeds | None = None
        self.taste = np.zeros(len(snap.genre_order))
        self.strongest: list[int] = []
        #: Continue watching's lead, per title in progress.
        self.started: dict[int, str] = {}
        self.unfinished: set[int] = set()
        if not self.personal:
            return
        self.signals = signals = load_signals(profile)
        serving = training.serving_model()
        model = serving[1] if serving is not None else None
        stored = (
            ProfileCandidates.objects.filter(profile=profile)
            .values_list("model_version_id", "title_ids", "scores", "predicted")
            .first()
        )
        # As ``page.page_builder`` decides: rows of its own, or everyone's.
        self.personal_page = bool(
            model is not None
            and stored is not None
            and stored[0] is not None
            and signals.has_signal
        )
        if stored and model is not None:
            visible = visible_titles(
                snap,
                kids=profile.is_kids,
                hidden=hidden_genre_ids(settings),
                signals=signals,
            )
            self.candidates = RankedCandidates.of(
                snap,
                Candidates.of(*stored[1:]),
                recommendable_titles(snap, visible, signals),
            )
            self.gems = set(self.candidates.gem_positions(snap).tolist())
        self.seeds = _Seeds(model, signals, profile) if model is not None else None
        self.taste = taste_vector(snap, signals)
        self.strongest = top_genres(snap, self.taste)
        self.unfinished = {v.title_id for v in signals.viewings if not v.completed}
        for v in signals.viewings:  # newest first
            if v.title_id not in self.started and v.continues:
                self.started[v.title_id] = (
                    f"You’re watching it: {v.up_next_code} is next."
                    if v.up_next_code
                    else f"You started watching it ({round(v.progress * 100)}% "
                    "watched)."
                )

    # -- a card --

    def sentences(self, row: RowRef | None, t: int) -> list[str]:
        pos = int(self.snap.index([t])[0])
        lead = self.lead(row, t, pos) if row is not None else None
        leads = [lead] if lead is not None else []
        if self.personal:
            reasons = agreeing([*leads, *self.signals_of(t, pos)])
            if not reasons:
                reasons = agreeing(self.everyones(t, pos))
            reasons = reasons[:MAX_SENTENCES]
        else:
            off = _reason(PERSONALIZATION_OFF, [NOT_PERSONAL])
            reasons = agreeing([*leads, *self.everyones(t, pos)])
            reasons = agreeing([*reasons[: MAX_SENTENCES - 1], off])
        return [r.text for r in reasons]

    def predicted(self, pos: int) -> float | None:
        if self.candidates is None or pos < 0:
            return None
        return self.candidates.predicted_at(pos)

    def yours(self, pos: int) -> list[str]:
        """The profile's strongest genres this title has, strongest first."""
        snap = self.snap
        return [
            snap.genre_names[g]
            for g in self.strongest
            if snap.features[pos, snap.genre_column(g)] > 0
        ]

    def outside(self, pos: int) -> bool:
        """None of its genres makes up a usual share of the profile's history."""
        snap = self.snap
        if self.taste.sum() <= 0 or not snap.features[pos].any():
            return False
        return not (snap.features[pos] * (self.taste >= OUTSIDE_MAX_SHARE)).any()

    def trending_reason(self, pos: int) -> Reason:
        yours = self.yours(pos) if pos >= 0 else []
        if not yours:
            return _reason("Trending on Marquee right now.", [POPULAR], ["trending"])
        return _reason(
            f"Trending in {yours[0]}, a genre you watch often.",
            [POPULAR, YOUR_GENRES],
            ["trending", "genre"],
            fallback=self.genre_reason(yours[0]),
        )

    def genre_reason(self, name: str) -> Reason:
        return _reason(f"{name} is a genre you watch often.", [YOUR_GENRES], ["genre"])

    def prediction_reason(self, predicted: float) -> Reason:
        return _reason(
            f"We predict you’d rate it {predicted:.1f}★ "
            f"({match_percent(predicted)}% match).",
            [PREDICTED],
            ["predicted"],
        )

    def gem_reason(self) -> Reason:
        return _reason(
            "Few viewers know it, but it’s close to your taste.",
            [FEW_VIEWERS, CLOSE_TO_TASTE],
            ["gem"],
        )

    def outside_reason(self) -> Reason:
        return _reason(
            "It’s outside the genres you usually watch.",
            [OUTSIDE_YOUR_GENRES],
            ["outside"],
        )

    def collection_reasons(self, t: int) -> list[Reason]:
        return [
            _reason(f"Picked by our editors for “{name}”.", topics=[f"collection-{s}"])
            for s, name in self.collections.get(t, [])
        ]

    # -- the row's own reason --

    def lead(self, row: RowRef, t: int, pos: int) -> Reason | None:
        """Why the title is in ``row``, when the data still says so."""
        if pos < 0:
            return None
        snap, kind, signals = self.snap, row.kind, self.signals
        if kind == "trending" and t in self.trending_chart:
            return self.trending_reason(pos)
        if kind == "top10" and t in self.top10:
            return _reason(
                "On today’s Top 10: among the most watched titles of the day.",
                [POPULAR],
                ["top10"],
            )
        if kind == "new":
            return _reason("New on Marquee.", topics=["new"])
        if kind == "collection":
            return next(
                (
                    r
                    for r in self.collection_reasons(t)
                    if r.topics == {f"collection-{row.slug}"}
                ),
                None,
            )
        if kind == "genre":
            return self.genre_lead(row.slug, pos)
        if kind == "region":
            return self.region_lead(t)
        if signals is None:
            return None
        if kind == "continue" and t in self.started:
            return _reason(self.started[t], [YOUR_HISTORY], ["started"])
        if kind == "my-list" and t in signals.my_list:
            return _reason("It’s on your My List.", [YOUR_HISTORY], ["my-list"])
        if kind == "because" and self.seeds is not None:
            return self.seeds.reason(row.seed_id, t)
        if kind == "gems" and pos in self.gems:
            return self.gem_reason()
        if kind == "outside" and self.outside(pos):
            label = ratings_label(snap, pos)
            if not label:
                return self.outside_reason()
            return _reason(
                f"It’s outside the genres you usually watch; viewers rate it {label}.",
                [OUTSIDE_YOUR_GENRES],
                ["outside"],
            )
        predicted = self.predicted(pos)
        if kind == "top-picks" and predicted is not None:
            return self.prediction_reason(predicted)
        runtime = snap.runtime[pos]
        if (
            kind == "short"
            and np.isfinite(runtime)
            and runtime <= SHORT_RUNTIME
            and predicted is not None
        ):
            return _reason(
                f"It’s {int(runtime)} minutes, for when you’re short on time.",
                topics=["short"],
            )
        return None

    def genre_lead(self, slug: str, pos: int) -> Reason | None:
        """A genre row: one of the profile's genres, or a popular genre."""
        snap = self.snap
        genre = next((g for g, s in snap.genre_slugs.items() if s == slug), None)
        if genre is None or genre not in snap.genre_order:
            return None
        j = snap.genre_column(genre)
        if not snap.features[pos, j] > 0:
            return None
        name = snap.genre_names[genre]
        if self.personal_page and self.taste[j] >= GENRE_ROW_MIN_SHARE:
            return self.genre_reason(name)
        return _reason(
            f"Popular in {name}: one of its most rated titles.",
            [POPULAR],
            ["popular-genre"],
        )

    def region_lead(self, t: int) -> Reason | None:
        region = viewer_region(self.profile)
        if region is None:
            return None
        if self._region_titles is None:
            chart = region_chart(region=region.code)
            self._region_titles = {title for title, _ in chart.titles}
        if t not in self._region_titles:
            return None
        return _reason(f"Liked by viewers in {region.name}.", [POPULAR], ["region"])

    # -- the signals, strongest first --

    def signals_of(self, t: int, pos: int) -> list[Reason]:
        """The profile's signals about the title, strongest first."""
        signals = self.signals
        reasons: list[Reason] = []
        if t in signals.ratings:
            reasons.append(
                _reason(
                    f"You rated it {signals.ratings[t][0]:g}★.",
                    [YOUR_HISTORY],
                    ["rated"],
                )
            )
        if t in signals.my_list:
            reasons.append(
                _reason("It’s on your My List.", [YOUR_HISTORY], ["my-list"])
            )
        if t in self.unfinished:
            reasons.append(
                _reason("You started watching it.", [YOUR_HISTORY], ["started"])
            )
        if self.seeds is not None:
            reasons += self.seeds.reasons(t)
        predicted = self.predicted(pos)
        if predicted is not None:
            reasons.append(self.prediction_reason(predicted))
            if pos in self.gems:
                reasons.append(self.gem_reason())
        if pos >= 0:
            yours = self.yours(pos)
            if t in self.trending:
                reasons.append(self.trending_reason(pos))
            elif yours:
                reasons.append(self.genre_reason(yours[0]))
            if self.outside(pos):
                reasons.append(self.outside_reason())
        reasons += self.collection_reasons(t)
        return reasons

    def everyones(self, t: int, pos: int) -> list[Reason]:
        """What everyone is told: trending, collections, viewers' ratings."""
        reasons = []
        if t in self.trending:
            reasons.append(self.trending_reason(-1))
        reasons += self.collection_reasons(t)
        if pos >= 0 and self.snap.rating_count[pos]:
            reasons.append(
                _reason(
                    f"Viewers rate it {ratings_label(self.snap, pos)}.",
                    topics=["ratings"],
                )
            )
        return reasons or [_reason("It’s new on Marquee.", topics=["new"])]


class _Seeds:
    """ "You rated Heat 5★; viewers who liked Heat loved this.": only a seed
    that raised the title's score (its part ``x_j · B_ji`` of the ranking
    score is positive, ``Recommender.contributions``); told about a title
    from any row, the seeds with the largest parts, at most two, and only
    those without which its score would fall (``Recommender.explain``)."""

    def __init__(self, model, signals: Signals, profile: Profile) -> None:
        self.model = model
        seeds = signals.seeds()
        names = dict(
            Title.objects.filter(pk__in=[t for t, _ in seeds]).values_list(
                "pk", "title"
            )
        )
        turned_down = signals.turned_down()
        self.seeds = {
            seed: (how, names[seed])
            for seed, how in seeds
            if seed in names and seed not in turned_down
        }
        #: The profile's history as the ranking reads it, read when first needed.
        self.profile = profile
        self._history = None

    @property
    def history(self):
        if self._history is None:
            (self._history,) = profile_histories([self.profile.pk])
        return self._history

    def reason(self, seed: int | None, title_id: int) -> Reason | None:
        """The sentence of one seed (a "Because you…" row's), when it still
        is one and it raises ``title_id``'s score, as the row's titles do."""
        if seed not in self.seeds:
            return None
        if not self.model.lifted_by(seed, [title_id])[0] > 0:
            return None
        return self.sentence(seed, title_id)

    def sentence(self, seed: int, title_id: int) -> Reason:
        how, name = self.seeds[seed]
        if self.model.is_new([title_id])[0]:
            return _reason(
                f"You {_seed_phrase(how, name)}; this title is new, and its "
                f"genres and tags are like those of titles {name}'s fans loved.",
                [YOUR_HISTORY],
                [f"seed-{seed}"],
            )
        return _reason(
            f"You {_seed_phrase(how, name)}; viewers who liked {name} loved this.",
            [YOUR_HISTORY],
            [f"seed-{seed}"],
        )

    def reasons(self, title_id: int) -> list[Reason]:
        """The sentences of the (at most two) seeds that raised the title's
        score most, largest part first."""
        if not self.seeds:
            return []
        named = self.model.explain(self.history, title_id, among=self.seeds, count=2)
        return [self.sentence(seed, title_id) for seed in named]


def _seed_phrase(how: str, name: str) -> str:
    """ "rated Heat 5★", "watched Heat", "picked Heat"."""
    verb, _, detail = how.partition(" ")
    if verb == "liked":
        verb = "picked"
    return f"{verb} {name} {detail}".strip()


def _collections_of(title_ids: Sequence[int]) -> dict[int, list[tuple[str, str]]]:
    """(slug, name) of the active collections holding each title, in order."""
    found = (
        Collection.objects.active()
        .filter(items__title__in=list(title_ids))
        .order_by("position", "name")
        .values_list("items__title", "slug", "name")
    )
    out: dict[int, list[tuple[str, str]]] = {}
    for title_id, slug, name in found:
        out.setdefault(title_id, []).append((slug, name))
    return out
