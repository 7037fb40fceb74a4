"""Typo-tolerant title matching, the same on every database.

When the words of a search find nothing ("Matrrix", "Tiatnic", "The Thief's
Outost"), :func:`catalog.selectors.search_titles` asks :func:`fuzzy_matches`
for the titles whose name is closest to the query. The matching is done in
Python (rapidfuzz) over an index of every title's folded name, kept per
process and rebuilt when the catalog changes, so SQLite (the README's
default) forgives typos exactly as PostgreSQL does.

Folding is what both sides of a comparison go through: accents dropped,
case folded, apostrophes removed, punctuation turned into spaces and a
leading article dropped ("The Matrix" and "matrix" are the same name).
"""

import re
import threading
import unicodedata
from dataclasses import dataclass

from django.db.models import Count, Max
from rapidfuzz import fuzz, process

from catalog.models import Title

#: A title is a candidate when the query is at least this similar (0..100)
#: to its name or its alternative title (rapidfuzz's ``WRatio``, which also
#: scores a query against the best part of a longer name).
MIN_SCORE = 80
#: Scores are compared in steps of this size: within a step, the most rated
#: title ranks first (as the word search's ranks that round alike).
SCORE_STEP = 5
#: At most this many candidates are kept, before the profile's filter.
MAX_CANDIDATES = 100
#: Words shorter than this ("of", "la") are left to the whole name's score.
MIN_WORD = 3

_APOSTROPHES = re.compile(r"['’ʼ`´]")
_WORD = re.compile(r"[^\W_]+")
_LEADING_ARTICLE = re.compile(
    r"^(the|a|an|la|le|les|l|el|il|lo|los|las|der|die|das|un|une) (?=.)"
)


def fold(text: str) -> str:
    """``text`` as names are compared: "The Thief's Outpost!" -> "thiefs outpost",
    "Amélie" -> "amelie", "WALL·E" -> "wall e"."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    words = _WORD.findall(_APOSTROPHES.sub("", plain.casefold()))
    return _LEADING_ARTICLE.sub("", " ".join(words))


def unaccent_lower(text: str | None) -> str | None:
    """Accents dropped and case folded (the word search's SQLite function)."""
    if text is None:
        return None
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@dataclass(frozen=True)
class TitleIndex:
    """Every title's folded names and rating count, in the same order."""

    fingerprint: tuple
    ids: list[int]
    names: list[str]
    alternatives: list[str]
    rating_counts: list[int]
    #: Every word of the names, and the titles (positions) that have it.
    words: dict[str, list[int]]
    vocabulary: list[str]

    def match(self, query: str) -> dict[int, int]:
        """Ids of the titles closest to ``query``, each with its score step
        (higher is closer), best first: by step, then most rated."""
        folded = fold(query)
        if not folded:
            return {}
        steps: dict[int, int] = {}
        for choices in (self.names, self.alternatives):
            for name, score, i in process.extract(
                folded,
                choices,
                scorer=fuzz.WRatio,
                score_cutoff=MIN_SCORE,
                limit=2 * MAX_CANDIDATES,
            ):
                if len(name) < len(folded):
                    # WRatio scores a name found inside the query as highly
                    # as the query found inside a name: "m" inside "matrx".
                    score = fuzz.ratio(folded, name)
                    if score < MIN_SCORE:
                        continue
                steps[i] = max(steps.get(i, 0), int(score // SCORE_STEP))
        for i, score in self._word_scores(folded).items():
            steps[i] = max(steps.get(i, 0), int(score // SCORE_STEP))
        best = sorted(steps, key=lambda i: (-steps[i], -self.rating_counts[i]))
        return {self.ids[i]: steps[i] for i in best[:MAX_CANDIDATES]}

    def _word_scores(self, folded: str) -> dict[int, float]:
        """Titles scored word by word: the mean, over the query's words, of
        how close each is to its closest word in the title. A typo in one word
        of a long name ("harvst" in "The Last Harvest") costs little here,
        where it costs the whole name's score much."""
        query_words = [w for w in folded.split() if len(w) >= MIN_WORD][:8]
        if not query_words:
            return {}
        best: dict[int, list[float]] = {}
        for n, word in enumerate(query_words):
            for close, score, _ in process.extract(
                word,
                self.vocabulary,
                scorer=fuzz.ratio,
                score_cutoff=MIN_SCORE,
                limit=MAX_CANDIDATES,
            ):
                for i in self.words[close]:
                    scores = best.setdefault(i, [0.0] * len(query_words))
                    scores[n] = max(scores[n], score)
        return {i: sum(scores) / len(scores) for i, scores in best.items()}


_lock = threading.Lock()
_index: TitleIndex | None = None


def _fingerprint(version: int) -> tuple:
    """Cheap to read, and changes when a title is added, removed or edited by
    a curator (``version``: ``catalog_version()``, bumped by the admin)."""
    stats = Title.objects.aggregate(
        count=Count("pk"), last_id=Max("pk"), last_added=Max("added_at")
    )
    return (version, stats["count"], stats["last_id"], stats["last_added"])


def title_index(*, version: int) -> TitleIndex:
    """This process's index of the catalog, rebuilt when it is out of date."""
    global _index
    fingerprint = _fingerprint(version)
    index = _index
    if index is not None and index.fingerprint == fingerprint:
        return index
    with _lock:
        if _index is not None and _index.fingerprint == fingerprint:
            return _index
        rows = list(
            Title.objects.order_by("pk")
            .annotate(rating_count=Count("ratings"))
            .values_list("pk", "title", "alternative_title", "rating_count")
        )
        names = [fold(row[1]) for row in rows]
        alternatives = [fold(row[2]) for row in rows]
        words: dict[str, list[int]] = {}
        for i, (name, alternative) in enumerate(zip(names, alternatives, strict=True)):
            for word in {*name.split(), *alternative.split()}:
                if len(word) >= MIN_WORD:
                    words.setdefault(word, []).append(i)
        _index = TitleIndex(
            fingerprint=fingerprint,
            ids=[row[0] for row in rows],
            names=names,
            alternatives=alternatives,
            rating_counts=[row[3] for row in rows],
            words=words,
            vocabulary=list(words),
        )
        return _index


def fuzzy_matches(query: str, *, version: int) -> dict[int, int]:
    """Title ids closest to ``query`` with their score steps, best first
    (every title: the caller keeps those the profile may see)."""
    return title_index(version=version).match(query)
