"""The online loop's maths: who sees which arm, how two rankers share a row,
and how sure we are that one of them gets more titles taken.

* Assignment: a profile's bucket is a number in [0, 1) taken from
  sha256("<experiment>:<profile>"), so it is the same on every process and
  machine and needs no stored state to be sticky. Profiles whose bucket is
  below the traffic share are in the test; their bucket, stretched to [0, 1),
  picks an arm by the arms' normalised weights.
* Team-draft interleaving (Radlinski, Kurup and Joachims 2008; Chapelle,
  Joachims, Radlinski and Yue 2012): one row made of both rankers' picks. In
  each round a coin decides which ranker picks first; each adds its
  highest-ranked title not already in the row. A take credits exactly the
  ranker that contributed the card, and a session prefers the ranker
  credited with more takes. A pick that was the next title of BOTH rankers
  can be marked shared: the coin, not the rankers, decided whose it was, so
  its takes are credited to nobody (they were noise, not evidence).
* Take rate: takes ÷ exposures over units (a profile or a session). One
  viewer's impressions are not independent, so the 95 % interval is the
  delta method's for a ratio of sums, clustered on units:
  Var(R) ≈ s²(tᵢ − R·eᵢ) / (n · ē²).
* A/B: the difference of two take rates (B − A), its variance the sum of
  theirs, judged by a two-sided z test.
* Interleaving: an exact two-sided sign (binomial) test on the sessions that
  prefer one ranker; ties carry no evidence and are left out. The interval on
  B's share of the preferences is Wilson's.
* Verdict: the sentence a curator reads, "B wins with 97 % confidence after
  1,240 sessions", where the confidence is 1 − p, rounded down and never
  shown as 100 %.
"""

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: Two-sided 95 % normal quantile.
Z95 = 1.959963984540054

#: Above this, the confidence is shown as "more than 99.9 %".
CONFIDENCE_CAP = 0.999


def bucket(experiment_id: int, profile_id: int) -> float:
    """A uniform number in [0, 1) fixed for this experiment and profile."""
    digest = hashlib.sha256(f"{experiment_id}:{profile_id}".encode()).digest()
    # 53 bits: every value is exactly representable, and 1.0 is never reached.
    return (int.from_bytes(digest[:8], "big") >> 11) / float(1 << 53)


def assign(
    experiment_id: int,
    profile_id: int,
    *,
    traffic_share: float,
    weights: Sequence[int],
) -> int | None:
    """The index of the profile's arm, or None when it is not in the test.

    Deterministic (the same answer on every call, process and machine), so an
    assignment is sticky without a lookup; arms are chosen in proportion to
    ``weights`` among the ``traffic_share`` of profiles that take part.
    """
    w = np.asarray(weights, dtype=float)
    if w.ndim != 1 or len(w) == 0 or (w < 0).any() or not w.sum() > 0:
        raise ValueError("weights must be non-negative with a positive sum")
    b = bucket(experiment_id, profile_id)
    if not traffic_share > 0 or b >= traffic_share:
        return None
    u = b / min(float(traffic_share), 1.0)
    cumulative = np.cumsum(w) / w.sum()
    index = int(np.searchsorted(cumulative, u, side="right"))
    # Rounding can leave the last cumulative share a hair below 1.
    return min(index, int(np.flatnonzero(w)[-1]))


#: The team of a pick both rankers would have made (``mark_shared``).
SHARED = -1


def team_draft(
    a: Sequence[int],
    b: Sequence[int],
    k: int,
    seed: int,
    *,
    mark_shared: bool = False,
) -> list[tuple[int, int]]:
    """Team-draft interleaving of rankings ``a`` and ``b`` into at most ``k``.

    Returns ``[(item, team)]`` in display order, team 0 for ``a`` and 1 for
    ``b``. Each round a coin (``np.random.default_rng(seed)``) decides which
    team picks first, then each team adds its highest-ranked item not yet
    chosen; when one list is exhausted the other keeps picking. The same seed
    gives the same row.

    With ``mark_shared``, a pick that was also the other ranker's
    highest-ranked item not yet chosen (both would have picked it then) comes
    back with team ``SHARED`` (-1): which team took it was the coin's doing,
    so a take of it says nothing about which ranker is better, and
    ``interleaving_credit`` credits it to nobody. The row itself is the same
    either way: a shared pick still uses the picking team's turn.
    """
    rng = np.random.default_rng(seed)
    lists = ([int(x) for x in a], [int(x) for x in b])
    cursors = [0, 0]
    chosen: set[int] = set()
    row: list[tuple[int, int]] = []

    def next_item(team: int) -> int | None:
        items = lists[team]
        while cursors[team] < len(items) and items[cursors[team]] in chosen:
            cursors[team] += 1
        return items[cursors[team]] if cursors[team] < len(items) else None

    def pick(team: int) -> bool:
        item = next_item(team)
        if item is None:
            return False
        shared = mark_shared and next_item(1 - team) == item
        chosen.add(item)
        row.append((item, SHARED if shared else team))
        return True

    while len(row) < k:
        first = int(rng.integers(2))
        picked = False
        for team in (first, 1 - first):
            if len(row) < k and pick(team):
                picked = True
        if not picked:
            break
    return row


def interleaving_credit(teams: Sequence[int], taken: Sequence[bool]) -> tuple[int, int]:
    """Takes credited to team 0 and to team 1: each take to the team whose
    card it was (cards of any other team, such as -1 for "neither", count for
    nobody)."""
    if len(teams) != len(taken):
        raise ValueError("teams and taken must have the same length")
    credit = [0, 0]
    for team, was_taken in zip(teams, taken, strict=True):
        if was_taken and team in (0, 1):
            credit[team] += 1
    return credit[0], credit[1]


@dataclass(frozen=True)
class Estimate:
    """A value with its 95 % interval."""

    value: float
    low: float
    high: float


NAN_ESTIMATE = Estimate(math.nan, math.nan, math.nan)


def _ratio_and_variance(takes, exposures) -> tuple[float, float, int]:
    t = np.asarray(takes, dtype=float).ravel()
    e = np.asarray(exposures, dtype=float).ravel()
    if t.shape != e.shape:
        raise ValueError("takes and exposures must have one entry per unit")
    n = len(t)
    if n == 0 or not e.sum() > 0:
        return math.nan, math.nan, n
    ratio = float(t.sum() / e.sum())
    if n < 2:
        return ratio, math.nan, n
    residual = t - ratio * e
    variance = float(residual.var(ddof=1) / (n * e.mean() ** 2))
    return ratio, variance, n


def take_rate(takes: np.ndarray, exposures: np.ndarray) -> Estimate:
    """Takes per exposure over per-unit arrays, with a clustered 95 % interval.

    A unit is whatever impressions are grouped by (a profile or a session):
    its takes and exposures are summed before the variance is taken, so a
    viewer who sees many cards counts once, not once per card. The low end is
    never below zero. With fewer than two units the rate has no interval
    (low and high are NaN).
    """
    ratio, variance, _ = _ratio_and_variance(takes, exposures)
    if math.isnan(ratio):
        return NAN_ESTIMATE
    if math.isnan(variance):
        return Estimate(ratio, math.nan, math.nan)
    half = Z95 * math.sqrt(variance)
    return Estimate(ratio, max(0.0, ratio - half), ratio + half)


#: The mixture's spread for :func:`always_valid_p`, as a share of the take
#: rate: the always-valid test is most sensitive to lifts of about this size
#: (10 %, the size of change a ranking usually makes).
MIXTURE_RELATIVE_SPREAD = 0.1


def always_valid_p(diff: float, variance: float, tau: float) -> float:
    """An always-valid p-value for a difference estimated as ``diff`` with
    ``variance``: the mixture sequential probability ratio test (mSPRT,
    Johari, Pekelis and Walsh 2017) with a normal mixture of spread ``tau``
    over the true difference. Unlike the z test's p, it may be read after
    every new session: the chance that it ever falls below 5 % when nothing
    differs is at most 5 %. NaN when the variance is unknown."""
    if math.isnan(diff) or math.isnan(variance) or tau <= 0:
        return math.nan
    if variance <= 0:
        return 1.0 if diff == 0 else 0.0
    spread = variance + tau * tau
    log_ratio = 0.5 * math.log(variance / spread) + (
        tau * tau * diff * diff / (2 * variance * spread)
    )
    return min(1.0, math.exp(-log_ratio))


def always_valid_sign_p(wins_a: int, wins_b: int) -> float:
    """The always-valid counterpart of :func:`sign_test`: 1 / the Bayes
    factor of "B's share is anything" (uniform) against "one half", i.e.
    ``1 / (2^n · B(wins_b + 1, wins_a + 1))``; valid at every look."""
    n = wins_a + wins_b
    if n == 0:
        return 1.0
    log_beta = math.lgamma(wins_b + 1) + math.lgamma(wins_a + 1) - math.lgamma(n + 2)
    return min(1.0, math.exp(-(n * math.log(2) + log_beta)))


@dataclass(frozen=True)
class Difference:
    """B − A with its 95 % interval and two-sided p-value (a fixed-sample z
    test), and the always-valid p-value (:func:`always_valid_p`) that a
    verdict read at any time must use."""

    diff: float
    low: float
    high: float
    p_value: float
    always_valid_p: float = math.nan


def rate_difference(
    a_takes: np.ndarray,
    a_exposures: np.ndarray,
    b_takes: np.ndarray,
    b_exposures: np.ndarray,
) -> Difference:
    """B's take rate minus A's, delta-method variances, two-sided z test.

    NaN throughout when either arm has fewer than two units or no exposures.
    """
    rate_a, var_a, _ = _ratio_and_variance(a_takes, a_exposures)
    rate_b, var_b, _ = _ratio_and_variance(b_takes, b_exposures)
    if any(math.isnan(x) for x in (rate_a, var_a, rate_b, var_b)):
        return Difference(math.nan, math.nan, math.nan, math.nan)
    diff = rate_b - rate_a
    se = math.sqrt(var_a + var_b)
    if se == 0:
        p = 1.0 if diff == 0 else 0.0
    else:
        p = math.erfc(abs(diff) / se / math.sqrt(2))
    tau = MIXTURE_RELATIVE_SPREAD * max(rate_a, rate_b)
    return Difference(
        diff, diff - Z95 * se, diff + Z95 * se, p, always_valid_p(diff, se * se, tau)
    )


@dataclass(frozen=True)
class Preference:
    """B's share of the sessions that preferred one ranker, its 95 % interval
    (Wilson), the sign test's p-value, the sessions counted and the ties."""

    share_b: float
    low: float
    high: float
    p_value: float
    sessions: int
    ties: int
    #: :func:`always_valid_sign_p`: what a verdict read at any time uses.
    always_valid_p: float = 1.0


def sign_test(wins_a: int, wins_b: int) -> float:
    """Exact two-sided binomial test of ``wins_b`` out of ``wins_a + wins_b``
    against one half: ``min(1, 2 · P(X ≤ min(wins)))``."""
    n = wins_a + wins_b
    m = min(wins_a, wins_b)
    if n == 0 or 2 * m == n:
        return 1.0
    # log P(X = i) by the recurrence C(n, i+1) = C(n, i)·(n − i)/(i + 1).
    i = np.arange(m, dtype=float)
    log_pmf = -n * math.log(2) + np.concatenate(
        ([0.0], np.cumsum(np.log((n - i) / (i + 1))))
    )
    top = log_pmf.max()
    tail = math.exp(top) * float(np.exp(log_pmf - top).sum())
    return min(1.0, 2 * tail)


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson's score interval for a proportion (NaN when n is 0)."""
    if n == 0:
        return math.nan, math.nan
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def interleaving_preference(credits_a: np.ndarray, credits_b: np.ndarray) -> Preference:
    """Which ranker sessions prefer: one entry per session (or profile).

    A session prefers B when it credits B with more takes than A; ``share_b``
    is the B-preferring share of the sessions that preferred either. Sessions
    with no takes, or as many for each, are ties.
    """
    ca = np.asarray(credits_a, dtype=float).ravel()
    cb = np.asarray(credits_b, dtype=float).ravel()
    if ca.shape != cb.shape:
        raise ValueError("credits_a and credits_b must have one entry per session")
    wins_b = int((cb > ca).sum())
    wins_a = int((ca > cb).sum())
    sessions = len(ca)
    ties = sessions - wins_a - wins_b
    decided = wins_a + wins_b
    if decided == 0:
        return Preference(math.nan, math.nan, math.nan, 1.0, sessions, ties)
    low, high = wilson_interval(wins_b, decided)
    return Preference(
        wins_b / decided,
        low,
        high,
        sign_test(wins_a, wins_b),
        sessions,
        ties,
        always_valid_sign_p(wins_a, wins_b),
    )


@dataclass(frozen=True)
class Verdict:
    """The winner's name (None while undecided), 1 − p, and the sentence."""

    winner: str | None
    confidence: float
    text: str


def _sessions(n: int) -> str:
    return f"{n:,} session" if n == 1 else f"{n:,} sessions"


def confidence_text(confidence: float) -> str:
    """ "97 %" (rounded down), or "more than 99.9 %"; never "100 %"."""
    if confidence > CONFIDENCE_CAP:
        return "more than 99.9 %"
    return f"{math.floor(confidence * 100 + 1e-9)} %"


def verdict(
    *,
    names: tuple[str, str],
    p_value: float,
    effect: float,
    sessions: int,
    alpha: float = 0.05,
) -> Verdict:
    """The plain-language reading of a test. ``effect`` > 0 means
    ``names[1]`` did better; a winner needs ``p_value`` < ``alpha``."""
    decided = not math.isnan(p_value) and not math.isnan(effect) and effect != 0
    confidence = 1.0 - p_value if not math.isnan(p_value) else 0.0
    if decided and p_value < alpha:
        winner = names[1] if effect > 0 else names[0]
        return Verdict(
            winner,
            confidence,
            f"{winner} wins with {confidence_text(confidence)} confidence "
            f"after {_sessions(sessions)}",
        )
    return Verdict(None, confidence, f"No difference yet after {_sessions(sessions)}")
