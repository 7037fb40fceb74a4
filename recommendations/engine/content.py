"""Cold-start titles: a content model that gives a title nobody watched an
EASE column.

EASE (``ranking``) only ranks titles enough profiles engaged with, so a title
a curator has just added can never be recommended. Each title is described
by content features (genres, its most frequent tags, release decade and
year, runtime bucket, kind, and a constant); a ridge regression maps those
features to EASE item columns:

    M = B F (FᵀF + αI)⁻¹        (B: warm items × warm items, F: warm items × features)

so a cold title c gets the predicted column B̂[:, c] = M f_c: the weight each
warm title in a history puts on c. A profile with engagement row x scores it
x M f_c, the same kind of number as its EASE scores x B[:, j], and a warm
title X's "nearest" weight on c is B̂[X, c] = M[X] · f_c.

The cold titles are the catalog's titles nobody had interacted with at
training time (so they have no EASE column); their features are kept in the
model with their ids, so every one of them gets a score for every profile.
Titles with an interaction or two but below EASE's ``min_profiles`` stay out
of the rankings, as before: scored by content too, they cost more ranking
accuracy than they bring (see :data:`COLD_WEIGHT`).

α is chosen on validation (:func:`choose_alpha`: titles held out of the
training part, their columns predicted from the rest) by
``experiment.evaluate_cold_titles``; :data:`DEFAULT_ALPHA` is what that chose
on ml-latest-small, the training service's default.
"""

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from recommendations.engine.dataset import index_of
from recommendations.engine.ranking import RankingModel

#: A cold title's score is an estimate (its column is a blurred average), so
#: it is shrunk towards the profile's mean EASE score by this factor before
#: it joins the EASE scores. Offline, a title nobody rated in training is
#: rarely among a profile's held-out titles, so every cold title shown costs
#: NDCG; the factor is the largest that keeps NDCG@10 within 2 % of the
#: model without cold titles (the rule the popularity correction follows).
#: On ml-latest-small (EASE λ 250; time split / random split), NDCG@10 without
#: cold titles 0.1393 / 0.3895; with them 0.1349 / 0.3739 at 1, 0.1370 /
#: 0.3809 at 0.7, 0.1377 / 0.3827 at 0.6 (cold titles fill 1.7 % / 1.2 % of
#: the top-10 slots), 0.1379 / 0.3835 at 0.5. Shrinking towards zero instead
#: cost more for the same exposure; scoring titles with one or two
#: interactions as well cost 0.1320 / 0.3691 at 1.
COLD_WEIGHT = 0.6
#: Ridge penalty on the feature map (features are 0/1, so α is in "titles").
DEFAULT_ALPHA = 30.0
#: Tags used as features: the most frequent, each on at least this many titles.
TOP_TAGS = 100
MIN_TAG_TITLES = 3
#: Runtime buckets (minutes, lower bounds).
RUNTIME_BUCKETS = ((0, "<90"), (90, "90-119"), (120, "120-149"), (150, "150+"))
#: The year feature is (year - YEAR_CENTRE) / YEAR_SCALE.
YEAR_CENTRE, YEAR_SCALE = 2000.0, 20.0
#: Arrays of a content model inside a recommender's arrays.
ARRAY_PREFIX = "content_"


@dataclass(frozen=True)
class TitleFacts:
    """What a title is, for its content features; tags with how often applied."""

    title_id: int
    genres: Sequence[str] = ()
    tags: Sequence[str] = ()  # one entry per application (repeats count)
    year: int | None = None
    runtime_minutes: int | None = None
    kind: str = "movie"


@dataclass(frozen=True)
class ContentFeatures:
    """Titles × content features (dense float32), with the feature names."""

    title_ids: np.ndarray  # sorted int64
    matrix: np.ndarray  # (titles, features) float32
    names: np.ndarray  # (features,) str

    def rows(self, title_ids: np.ndarray) -> np.ndarray:
        """The feature rows of ``title_ids``; zeros for a title not described."""
        pos = index_of(self.title_ids, title_ids)
        out = np.zeros((len(pos), self.matrix.shape[1]), np.float32)
        out[pos >= 0] = self.matrix[pos[pos >= 0]]
        return out

    def as_dict(self) -> dict[int, np.ndarray]:
        """Title id -> feature row (the shape ``experiment.evaluate`` takes)."""
        return {int(t): row for t, row in zip(self.title_ids, self.matrix, strict=True)}


def _runtime_bucket(minutes: int | None) -> str:
    if not minutes:
        return "runtime:unknown"
    name = [label for low, label in RUNTIME_BUCKETS if minutes >= low][-1]
    return f"runtime:{name}"


def content_features(
    facts: Iterable[TitleFacts],
    *,
    top_tags: int = TOP_TAGS,
    min_tag_titles: int = MIN_TAG_TITLES,
) -> ContentFeatures:
    """The one definition of a title's content features.

    Columns: ``bias`` (1 on every title), ``genre:<name>``, ``tag:<name>``
    (the ``top_tags`` tags on most titles, lower case, each on at least
    ``min_tag_titles`` titles; 1 when the title has it), ``decade:<1990s>``
    or ``decade:unknown``, ``year`` ((year - 2000) / 20, 0 when unknown),
    ``runtime:<bucket>``, ``kind:<movie|series>``.
    """
    facts = sorted(facts, key=lambda f: f.title_id)
    tag_sets = [{" ".join(t.lower().split()) for t in f.tags} - {""} for f in facts]
    tag_titles = Counter(t for tags in tag_sets for t in tags)
    kept_tags = [
        t
        for t, n in sorted(tag_titles.items(), key=lambda tn: (-tn[1], tn[0]))
        if n >= min_tag_titles
    ][:top_tags]
    kept = set(kept_tags)

    def decade(year: int | None) -> str:
        return f"decade:{year // 10 * 10}s" if year else "decade:unknown"

    genres = sorted({g for f in facts for g in f.genres})
    decades = sorted({decade(f.year) for f in facts})
    runtimes = [f"runtime:{label}" for _, label in RUNTIME_BUCKETS]
    runtimes.append("runtime:unknown")
    kinds = sorted({f"kind:{f.kind}" for f in facts})
    names = [
        "bias",
        "year",
        *(f"genre:{g}" for g in genres),
        *(f"tag:{t}" for t in kept_tags),
        *decades,
        *runtimes,
        *kinds,
    ]
    column = {name: n for n, name in enumerate(names)}
    matrix = np.zeros((len(facts), len(names)), np.float32)
    for row, (f, tags) in enumerate(zip(facts, tag_sets, strict=True)):
        cols = [column["bias"], column[decade(f.year)]]
        cols.append(column[_runtime_bucket(f.runtime_minutes)])
        cols.append(column[f"kind:{f.kind}"])
        cols += [column[f"genre:{g}"] for g in f.genres]
        cols += [column[f"tag:{t}"] for t in tags if t in kept]
        matrix[row, cols] = 1.0
        if f.year:
            matrix[row, column["year"]] = (f.year - YEAR_CENTRE) / YEAR_SCALE
    return ContentFeatures(
        title_ids=np.array([f.title_id for f in facts], dtype=np.int64),
        matrix=matrix,
        names=np.array(names, dtype=str),
    )


def ridge_map(targets: np.ndarray, features: np.ndarray, alpha: float) -> np.ndarray:
    """M minimising ‖targets − M featuresᵀ‖² + α‖M‖²: targets (r, n) over n
    titles with features (n, f) -> M (r, f)."""
    F = np.asarray(features, dtype=np.float64)
    gram = F.T @ F
    gram[np.diag_indices_from(gram)] += alpha
    right = np.asarray(targets @ F, dtype=np.float64)  # (r, f)
    return np.linalg.solve(gram, right.T).T.astype(np.float32)


@dataclass(frozen=True)
class ContentModel:
    """Predicted EASE columns of the cold titles, in factored form."""

    M: np.ndarray  # (warm titles, features) float32, rows as ranking.item_ids
    names: np.ndarray  # feature names
    cold_ids: np.ndarray  # sorted title ids without an EASE column
    cold_features: np.ndarray  # (cold titles, features) float32
    new: np.ndarray  # bool per cold title: no interaction at training time
    alpha: float
    weight: float = COLD_WEIGHT  # on the cold titles' scores in candidates

    def scores(
        self, X: sparse.spmatrix | np.ndarray, centre: np.ndarray | float = 0.0
    ) -> np.ndarray:
        """Profiles × cold titles: ``X`` (profiles × warm titles, engagement
        rows as ``Recommender.candidates`` builds them) times B̂, shrunk by
        :attr:`weight` towards ``centre`` (each profile's mean EASE score)."""
        xm = np.asarray(X @ self.M, dtype=np.float64)
        raw = xm @ self.cold_features.T.astype(np.float64)
        return centre + self.weight * (raw - centre)

    def weights_from(self, row: int) -> np.ndarray:
        """B̂[row, cold]: how much warm title ``row``'s presence lifts each cold title."""
        return (self.cold_features @ self.M[row]).astype(np.float64)

    def weights_to(self, cold_row: int) -> np.ndarray:
        """B̂[:, c]: the predicted column of one cold title (over warm titles)."""
        return (self.M @ self.cold_features[cold_row]).astype(np.float64)

    def new_title_ids(self) -> np.ndarray:
        return self.cold_ids[self.new]

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {
            f"{ARRAY_PREFIX}M": self.M,
            f"{ARRAY_PREFIX}names": self.names,
            f"{ARRAY_PREFIX}cold_ids": self.cold_ids,
            f"{ARRAY_PREFIX}cold_features": self.cold_features,
            f"{ARRAY_PREFIX}new": self.new,
            f"{ARRAY_PREFIX}alpha": np.array(self.alpha),
            f"{ARRAY_PREFIX}weight": np.array(self.weight),
        }

    @classmethod
    def from_arrays(cls, a: dict[str, np.ndarray]) -> "ContentModel | None":
        """The content model in a recommender's arrays; None in a file from
        before cold titles (or one trained without content features)."""
        if f"{ARRAY_PREFIX}M" not in a:
            return None
        return cls(
            M=a[f"{ARRAY_PREFIX}M"],
            names=a[f"{ARRAY_PREFIX}names"],
            cold_ids=a[f"{ARRAY_PREFIX}cold_ids"],
            cold_features=a[f"{ARRAY_PREFIX}cold_features"],
            new=a[f"{ARRAY_PREFIX}new"].astype(bool),
            alpha=float(a[f"{ARRAY_PREFIX}alpha"]),
            weight=float(a.get(f"{ARRAY_PREFIX}weight", COLD_WEIGHT)),
        )


def fit_content(
    item_ids: np.ndarray,
    B: np.ndarray,
    features: ContentFeatures,
    *,
    interacted: np.ndarray,
    alpha: float = DEFAULT_ALPHA,
    weight: float = COLD_WEIGHT,
    cold_ids: np.ndarray | None = None,
) -> ContentModel | None:
    """The ridge map from features to the EASE columns of ``item_ids``, and
    the cold titles: every described title without a column and without any
    interaction in training (``interacted``), or ``cold_ids``; ``new`` flags
    those without an interaction. None when there is nothing to map.
    """
    if len(item_ids) == 0 or features.matrix.shape[1] == 0:
        return None
    if cold_ids is None:
        described = features.title_ids
        cold_ids = described[
            ~np.isin(described, item_ids) & ~np.isin(described, interacted)
        ]
    cold_ids = np.unique(np.asarray(cold_ids, dtype=np.int64))
    M = ridge_map(B, features.rows(item_ids), alpha)
    return ContentModel(
        M=M,
        names=features.names,
        cold_ids=cold_ids,
        cold_features=features.rows(cold_ids),
        new=~np.isin(cold_ids, interacted),
        alpha=float(alpha),
        weight=float(weight),
    )


def nearest_with_cold(
    ranking: RankingModel, content: ContentModel, title_id: int, count: int
) -> tuple[np.ndarray, np.ndarray]:
    """The titles ``title_id``'s presence lifts most, cold titles included
    (their predicted weights B̂[X, c]); for a cold title, the EASE titles
    whose presence lifts it most (its predicted column). Positive weights
    only, most first: (title ids, weights)."""
    row = int(index_of(ranking.item_ids, [title_id])[0])
    if row >= 0:
        ids = np.concatenate([ranking.item_ids, content.cold_ids])
        weights = np.concatenate(
            [ranking.B[row].astype(np.float64), content.weights_from(row)]
        )
        weights[row] = -np.inf
    else:
        cold = int(index_of(content.cold_ids, [title_id])[0])
        if cold < 0:
            return np.zeros(0, np.int64), np.zeros(0)
        ids, weights = ranking.item_ids, content.weights_to(cold)
    count = min(count, len(ids))
    if count <= 0:
        return np.zeros(0, np.int64), np.zeros(0)
    top = np.argpartition(-weights, count - 1)[:count]
    top = top[np.argsort(-weights[top], kind="stable")]
    top = top[weights[top] > 0]
    return ids[top].astype(np.int64), weights[top]


def popularity_from_content(
    features: ContentFeatures,
    title_ids: np.ndarray,
    counts: np.ndarray,
    wanted: np.ndarray,
    *,
    alpha: float = 1.0,
) -> np.ndarray:
    """What a system could know of a new title's popularity: a ridge from
    content features to log(1 + interactions) fitted on ``title_ids``
    (with ``counts``), predicted for ``wanted``."""
    target = np.log1p(np.asarray(counts, dtype=np.float64))[None, :]
    w = ridge_map(target, features.rows(title_ids), alpha)[0]
    return features.rows(wanted).astype(np.float64) @ w.astype(np.float64)
