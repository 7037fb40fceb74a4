"""How many sessions (and viewers) an A/B test and a team-draft interleaving
need to tell two Top-picks rankers apart, on simulated viewers whose tastes
are known, modelled the way the site assigns and analyses a test.

Set-up: the demo catalog (1,500 titles, 300 viewers, seed 7) in a fresh
PostgreSQL database, one model trained (Celery eager), then for every viewer
the REAL row builder (``recommendations.home.page.page_builder`` →
``RowBuilder.top_picks``) gives ranker B, the Top picks as served. Ranker A,
slightly worse, in two scenarios:

* ``swap`` (the main one, a difference controlled by construction): B's list
  with each card, independently with chance ``SWAP`` = 5 %, swapped for a
  random title the viewer may be recommended (unrated, visible);
* ``exploration``: the same builder's Top picks with exploration at 100
  instead of the default 20 (``RowBuilder.top_picks_under``), a test a
  curator might really run.

Both rankers are built once per demo viewer and reused, with 64 interleaved
rows of A and B (and of A with itself) made by the real ``team_draft`` from
random seeds, in coin-mirrored pairs (so every round's coin is exactly fair
over the rows), each card's team both as ``team_draft`` gives it and with
``mark_shared=True`` (a pick that was the next title of BOTH rankings at that
moment has team -1).

Click model (fixed in advance, not tuned to this file): the truth is the
demo's planted taste (``catalog.demo.planted_tastes``): a viewer's chance of
rating a title 4 stars or more. In a session a viewer sees the first ``K`` =
20 cards of the row; card ``i`` (from 0) is taken with probability
intent × 1/(i + 1) × preference, and at most 3 are taken per session (the
first three, in row order).

Two models of who the sessions belong to:

* per session (the old model, H1's): every session is a new, independent
  viewer: one of the 300 demo viewers' tastes at random, an intent drawn from
  Beta(1, 3) (most visits browse, a few are out to watch). A/B is a fair coin
  per session; interleaving draws one of the 64 rows per session; each
  method's unit of analysis is the session.
* per viewer (the site's): a simulated viewer is a profile, drawn once: its
  tastes (one of the 300 demo viewers' at random), its activity (a mean
  intent μ from Beta(1, 3)) and how often it comes (1 + Poisson(λ) sessions,
  λ from Gamma(shape 1, scale 3): 4 on average, from one-off visitors to
  regulars). Each of its sessions has intent from Beta(4μ, 4(1 − μ)), so a
  viewer of mean intent 0.25 browses exactly as an old-model session did.
  A/B: the profile's arm is ``engine.online.assign`` (sticky per profile, as
  ``services.experiments.arm_for`` assigns it; simulated profile ids from a
  pool of 2^18 assigned once, each simulation starting at a random place in
  it), and the test is the site's: ``rate_difference`` of take rates
  (takes ÷ cards shown) with the PROFILE as the unit (clustered delta
  method). Interleaving: the site seeds the team draft per profile and
  candidates, so a viewer sees the same interleaved row (one of the 64) in
  every session; its takes are credited to the ranker that contributed the
  card (``interleaving_credit``), summed over ITS sessions, and
  ``interleaving_preference`` takes one entry per viewer (the sign test's
  unit is the viewer).

Methods, each reported: ``ab_per_session`` and ``interleaving_per_session``
(the old figures), ``ab_per_viewer`` and ``interleaving_per_viewer`` (the
viewer model, plain team draft), ``interleaving_per_viewer_marked`` (the
viewer model, shared picks credited to nobody, as the site now serves them).
The ratios ``old``, ``per_viewer`` and ``new`` set them side by side so the
effect of each change is visible (``new`` = per-viewer A/B against
per-viewer interleaving with shared picks marked). One more,
``interleaving_per_viewer_judged_per_session``, is the viewer model (plain
team draft) with every SESSION a unit of the sign test, as an analysis by
page view would count it: its A/A figure shows what ignoring that one
viewer's sessions share a row and an appetite costs (its "viewers" are
sessions).

"Sessions needed", per simulation: the smallest N on the grid 125 × 2^j (up
to 1,024,000) from which the test declares the truly better ranker at
p < 0.05 at that N and at every larger grid point (so a lucky early dip does
not count); N sessions means the viewers whose sessions all fall within the
first N (an experiment counted in whole viewers), and the viewers needed are
those. A simulation stops once B is ahead with p < 1e-4: from there on it is
counted as declaring B (falling back above 0.05 at double the sessions would
take a 5-sigma turn). The median over 50 seeded simulations is reported per
method, and the ratio of A/B's to interleaving's (target ≥ 10×). A method's
budget is the smallest grid N at which at least 95 % of the 50 simulations
declare B; then, so that nothing is judged on the runs that chose it, 50
fresh simulations at exactly that budget give the share that pick B (target
≥ 95 %). In the main scenario (A/A does not involve B), 500 A/A experiments
(A against A) at that fixed budget give the share that declare any winner
(target ≤ 5 %, up to about 7 % is the noise of 500 runs); each draws its
units (viewers, or the old model's sessions), with replacement, from a bank
simulated under A/A covering 2,048,000 sessions (a fresh simulation of each
would take minutes; the judged-per-session method, whose units are not
independent, is simulated afresh). With shared picks marked, A against A
marks every pick shared, so that A/A never declares a winner by
construction (the engine's tests check the marked credit is unbiased
between two different rankers of equal quality).

Prints one JSON line with the figures, the seed, the true differences and the
elapsed seconds.
"""

import functools
import json
import math
import os
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import ROOT, fresh_django, log

sys.path.insert(0, str(ROOT))
from recommendations.engine.online import (
    SHARED,
    assign,
    interleaving_credit,
    interleaving_preference,
    rate_difference,
    team_draft,
    verdict,
)

SEED = 15
DEMO_SEED, TITLES, VIEWERS = 7, 1500, 300
UNTIL = datetime(2026, 1, 1, tzinfo=UTC)
K = 20  # the cards of a Top-picks row (home.rows.ROW_LENGTH)
#: The scenarios: A is B with this share of cards swapped for random titles...
SWAP = 0.05
#: ...or B's builder with its exploration at this (the default is 20).
EXPLORATION = 100
SCENARIOS = ("swap", "exploration")
MAX_TAKES = 3
BIAS = (1.0 / np.arange(1, K + 1)).astype(np.float32)
#: Per session: a session's intent. Per viewer: a viewer's mean intent μ.
INTENT = (1.0, 3.0)  # Beta parameters
#: Per viewer: a session's intent is Beta(κμ, κ(1 − μ)) with this κ.
INTENT_CONCENTRATION = 4.0
#: Per viewer: 1 + Poisson(λ) sessions, λ from Gamma(shape, scale).
RETURNS = (1.0, 3.0)
DRAFT_SEEDS = 64
SIMULATIONS = 50
AA_SIMULATIONS = 500
GRID = 125 * 2 ** np.arange(14)  # 125 … 1,024,000 sessions
#: A simulation stops once B is ahead with a p-value below this.
STOP_P = 1e-4
#: The simulated test's id and profile ids 1 … PROFILES, for ``assign``.
EXPERIMENT_ID, PROFILES = SEED, 2**18
AA_BANK_SESSIONS = 2_048_000
TRUTH_SESSIONS = 1_000_000
BLOCK = 65_536  # sessions simulated at once, about
ALPHA = 0.05


@dataclass(frozen=True)
class Method:
    """How sessions are made and judged (see the module's docstring)."""

    design: str  # "ab" or "interleaving"
    per_viewer: bool
    mark_shared: bool = False
    #: Per viewer, but each SESSION a unit of the test (not independent).
    judged_per_session: bool = False


METHODS = {
    "ab_per_session": Method("ab", per_viewer=False),
    "interleaving_per_session": Method("interleaving", per_viewer=False),
    "ab_per_viewer": Method("ab", per_viewer=True),
    "interleaving_per_viewer": Method("interleaving", per_viewer=True),
    "interleaving_per_viewer_marked": Method(
        "interleaving", per_viewer=True, mark_shared=True
    ),
    "interleaving_per_viewer_judged_per_session": Method(
        "interleaving", per_viewer=True, judged_per_session=True
    ),
}
#: The comparisons reported: (A/B method, interleaving method).
RATIOS = {
    "old": ("ab_per_session", "interleaving_per_session"),
    "per_viewer": ("ab_per_viewer", "interleaving_per_viewer"),
    "new": ("ab_per_viewer", "interleaving_per_viewer_marked"),
}


# --- the rankers, through the real row builders -----------------------------


@dataclass(frozen=True)
class Rows:
    """Each viewer's preference for the cards of A's row and of B's (viewers ×
    K); and for the interleaved rows of A with B and of A with itself
    (viewers × DRAFT_SEEDS × K), with the team of each card as team draft
    gives it (``team_*``) and with shared picks marked -1 (``marked_*``)."""

    like_a: np.ndarray
    like_b: np.ndarray
    like_ab: np.ndarray
    team_ab: np.ndarray
    marked_ab: np.ndarray
    like_aa: np.ndarray
    team_aa: np.ndarray
    marked_aa: np.ndarray


def _mirrored(row: list[tuple[int, int]]) -> list[int]:
    """The teams of ``team_draft(b, a, …)`` seen from A: 0 and 1 swapped."""
    return [1 - m if m in (0, 1) else m for _, m in row]


def _drafts(a: list[int], b: list[int], taste: np.ndarray, seeds: np.ndarray):
    """``DRAFT_SEEDS`` team-draft rows of ``a`` with ``b``, in mirrored pairs:
    ``team_draft(b, a, seed)`` with its teams swapped is the row the opposite
    coins would have made, so every round's coin is exactly fair over the
    rows (a few dozen seeds alone would favour one ranker by luck). Returns
    each row's preferences, teams, and teams with shared picks marked."""
    likes, teams, marked = [], [], []
    for seed in seeds[: DRAFT_SEEDS // 2]:
        for first, second, mirror in ((a, b, False), (b, a, True)):
            plain = team_draft(first, second, K, int(seed))
            shared = team_draft(first, second, K, int(seed), mark_shared=True)
            assert [t for t, _ in plain] == [t for t, _ in shared]
            likes.append([taste[t] for t, _ in plain])
            teams.append(_mirrored(plain) if mirror else [m for _, m in plain])
            marked.append(_mirrored(shared) if mirror else [m for _, m in shared])
    return likes, teams, marked


def rankers() -> dict[str, Rows]:
    """Every viewer's rows in each scenario (see the module's docstring)."""
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
    fresh_django("marquee_bench_experiments")

    from django.core.cache import cache

    from config.celery import app

    app.conf.task_always_eager = True
    # A fresh database needs a fresh cache: entries left by another database
    # (a model version, a catalog snapshot under the same key) change the rows.
    cache.clear()

    from accounts.models import Profile
    from catalog.demo import planted_tastes
    from catalog.models import Title
    from catalog.services import demo_catalog_seed
    from recommendations.home.page import page_builder
    from recommendations.models import ProfileCandidates
    from recommendations.services import candidates, training

    log("seeding the demo catalog")
    demo_catalog_seed(seed=DEMO_SEED, titles=TITLES, viewers=VIEWERS, until=UNTIL)
    log("training")
    training.model_train(params={"n_factors": 20, "n_epochs": 10, "random_state": 0})
    preference = planted_tastes(
        seed=DEMO_SEED, titles=TITLES, viewers=VIEWERS, until=UNTIL
    ).chance_of_at_least(4.0)
    title_index = {
        pk: i
        for i, pk in enumerate(
            Title.objects.filter(source=Title.Source.DEMO)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    }
    log("building every viewer's Top picks")
    rng = np.random.default_rng(SEED)
    out = {s: {f: [] for f in Rows.__dataclass_fields__} for s in SCENARIOS}
    have = set(ProfileCandidates.objects.values_list("profile_id", flat=True))
    profiles = Profile.objects.filter(user__email__startswith="demo-")
    for profile in profiles.select_related("user").order_by("pk"):
        viewer = int(profile.user.email.split("-")[1].split("@")[0]) - 1
        if profile.pk not in have:
            candidates.profile_refresh(profile_id=profile.pk)
        builder, note = page_builder(profile=profile)
        draft = builder.top_picks() if not note else None
        if draft is None or len(draft.ids) < K:
            continue
        b = [title_index[t] for t in draft.ids]
        # Swap: each card, with chance SWAP, for a random recommendable title.
        pool = np.setdiff1d(
            [title_index[int(t)] for t in builder.snap.ids[builder.recommendable]], b
        )
        swapped = rng.random(len(b)) < SWAP
        replacements = iter(rng.choice(pool, size=int(swapped.sum()), replace=False))
        swap = [
            int(next(replacements)) if s else t for t, s in zip(b, swapped, strict=True)
        ]
        # Exploration: the same builder with more variety in its MMR.
        explored = builder.top_picks_under(EXPLORATION, builder.calibration)
        taste = preference[viewer]
        for scenario, a in (
            ("swap", swap),
            ("exploration", [title_index[t] for t in explored.ids]),
        ):
            rows = out[scenario]
            rows["like_a"].append(taste[a[:K]])
            rows["like_b"].append(taste[b[:K]])
            for pair, other in (("ab", b), ("aa", a)):
                like, team, marked = _drafts(
                    a, other, taste, rng.integers(2**32, size=DRAFT_SEEDS // 2)
                )
                rows[f"like_{pair}"].append(like)
                rows[f"team_{pair}"].append(team)
                rows[f"marked_{pair}"].append(marked)
    log(f"{len(out['swap']['like_b'])} viewers with a Top-picks row of {K} or more")
    return {
        scenario: Rows(
            **{
                f: np.array(v, dtype=np.float32 if f.startswith("like") else np.int8)
                for f, v in rows.items()
            }
        )
        for scenario, rows in out.items()
    }


# --- sessions ---------------------------------------------------------------


@functools.cache
def profile_arms() -> np.ndarray:
    """The arm (0 = A, 1 = B) of simulated profiles 1 … PROFILES, as the site
    assigns it: ``engine.online.assign`` with an even split, all traffic."""
    return np.array(
        [
            assign(EXPERIMENT_ID, p, traffic_share=1.0, weights=(1, 1))
            for p in range(1, PROFILES + 1)
        ],
        dtype=np.int8,
    )


def taken(rng: np.random.Generator, like: np.ndarray, intent) -> np.ndarray:
    """Which cards each session takes (sessions × K), by the click model."""
    took = rng.random(like.shape, dtype=np.float32) < intent[:, None] * BIAS * like
    return took & (np.cumsum(took, axis=1) <= MAX_TAKES)


class Run:
    """One simulated experiment, grown viewer by viewer (in the per-session
    model every session is its own viewer). Per viewer: its sessions and, for
    A/B, its arm and takes; for interleaving, the takes credited to A and B.
    ``arm`` puts everyone in one arm (to measure the truth)."""

    def __init__(self, name: str, rows: Rows, *, aa: bool, seed: int, arm=None):
        self.method = m = METHODS[name]
        self.rng = np.random.default_rng([SEED, seed])
        self.first_profile = int(self.rng.integers(PROFILES))
        self.arm = arm
        if m.design == "ab":
            self.like = (rows.like_a, rows.like_a if aa else rows.like_b)
        else:
            like, team, marked = (
                (rows.like_aa, rows.team_aa, rows.marked_aa)
                if aa
                else (rows.like_ab, rows.team_ab, rows.marked_ab)
            )
            self.like, self.team = like, marked if m.mark_shared else team
        self.blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.viewers = 0
        self.total = 0

    def _block(self) -> None:
        m, rng = self.method, self.rng
        count = BLOCK // 4 if m.per_viewer else BLOCK
        templates = len(self.like[0]) if m.design == "ab" else len(self.like)
        template = rng.integers(templates, size=count)
        if m.per_viewer:
            mean = np.clip(rng.beta(*INTENT, size=count), 1e-6, 1 - 1e-6)
            sessions = 1 + rng.poisson(rng.gamma(*RETURNS, size=count))
            s = np.repeat(np.arange(count), sessions)
            kappa = INTENT_CONCENTRATION
            intent = rng.beta(kappa * mean[s], kappa * (1 - mean[s]))
        else:
            sessions = np.ones(count, dtype=np.int64)
            s = np.arange(count)
            intent = rng.beta(*INTENT, size=count)
        intent = intent.astype(np.float32)
        if m.design == "ab":
            if self.arm is not None:
                arm = np.full(count, self.arm, dtype=np.int8)
            elif m.per_viewer:
                ids = (self.first_profile + self.viewers + np.arange(count)) % PROFILES
                arm = profile_arms()[ids]
            else:
                arm = rng.integers(2, size=count).astype(np.int8)
            t = template[s]
            like = np.where(arm[s, None] == 1, self.like[1][t], self.like[0][t])
            took = taken(rng, like, intent).sum(axis=1)
            x, y = np.bincount(s, weights=took, minlength=count), arm
        else:
            # The same interleaved row in each of a viewer's sessions.
            draft = rng.integers(DRAFT_SEEDS, size=count)
            t, d = template[s], draft[s]
            took = taken(rng, self.like[t, d], intent)
            team = self.team[t, d]
            x, y = (took & (team == 0)).sum(axis=1), (took & (team == 1)).sum(axis=1)
            if m.judged_per_session:  # the units are the sessions
                sessions = np.ones(len(s), dtype=np.int64)
            else:
                x = np.bincount(s, weights=x, minlength=count)
                y = np.bincount(s, weights=y, minlength=count)
        self.blocks.append((sessions, x, y))
        self.viewers += count
        self.total += int(sessions.sum())

    def grow(self, n: int) -> "Run":
        """Simulates viewers until their sessions pass ``n``."""
        if self.total <= n:
            while self.total <= n:
                self._block()
            self.sessions, self.x, self.y = (
                np.concatenate(a) for a in zip(*self.blocks, strict=True)
            )
            self.ends = np.cumsum(self.sessions)
        return self

    def units(self, n: int) -> int:
        """The viewers whose sessions all fall within the first ``n``."""
        return int(np.searchsorted(self.ends, n, side="right"))

    def test(self, n: int) -> tuple[float, float, int]:
        """The test's p-value and effect (> 0: B looked better) on the first
        ``n`` sessions, and the viewers they are."""
        v = self.grow(n).units(n)
        return (*judge(self.method, self.sessions[:v], self.x[:v], self.y[:v]), v)


def judge(method: Method, sessions, x, y) -> tuple[float, float]:
    """The site's test on per-unit arrays (see ``Run``): p-value and effect."""
    if method.design == "ab":
        exposures = K * sessions
        d = rate_difference(x[y == 0], exposures[y == 0], x[y == 1], exposures[y == 1])
        return d.p_value, d.diff
    pref = interleaving_preference(x, y)
    return pref.p_value, pref.share_b - 0.5


def winner(p_value: float, effect: float, n: int) -> str | None:
    return verdict(
        names=("A", "B"), p_value=p_value, effect=effect, sessions=n, alpha=ALPHA
    ).winner


def aa_false_alarms(name: str, rows: Rows, budget: int) -> float:
    """The share of A/A experiments of ``budget`` sessions declaring a winner,
    each drawing its units with replacement from one bank simulated under
    A/A (and, for A/B, placing them by the profile pool's arms, or per
    session by a coin). Sessions judged one by one are not independent units,
    so those experiments are simulated afresh instead."""
    method = METHODS[name]
    if method.judged_per_session:
        alarms = 0
        for s in range(AA_SIMULATIONS):
            p_value, effect, _ = Run(name, rows, aa=True, seed=4000 + s).test(budget)
            alarms += winner(p_value, effect, budget) is not None
        return round(alarms / AA_SIMULATIONS, 3)
    bank = Run(name, rows, aa=True, seed=3000).grow(AA_BANK_SESSIONS)
    rng = np.random.default_rng([SEED, 3001])
    draw = int(budget / bank.sessions.mean() * 1.2) + 100
    alarms = 0
    for _ in range(AA_SIMULATIONS):
        pick = rng.integers(len(bank.sessions), size=draw)
        v = int(np.searchsorted(np.cumsum(bank.sessions[pick]), budget, "right"))
        pick = pick[:v]
        y = bank.y[pick]
        if method.design == "ab" and method.per_viewer:  # both arms show A
            y = profile_arms()[(int(rng.integers(PROFILES)) + np.arange(v)) % PROFILES]
        elif method.design == "ab":
            y = rng.integers(2, size=v)
        p_value, effect = judge(method, bank.sessions[pick], bank.x[pick], y)
        alarms += winner(p_value, effect, budget) is not None
    return round(alarms / AA_SIMULATIONS, 3)


def method_figures(name: str, rows: Rows, *, aa: bool) -> dict:
    log(f"{name}: {SIMULATIONS} simulations")
    needed, viewers_needed, power = [], [], np.zeros(len(GRID))
    for sim in range(SIMULATIONS):
        run = Run(name, rows, aa=False, seed=sim)
        declared, viewers, stopped = [], [], False
        for n in GRID:
            if stopped:  # B stays ahead from here
                declared.append(True)
                viewers.append(None)
                continue
            p_value, effect, v = run.test(int(n))
            declared.append(winner(p_value, effect, int(n)) == "B")
            viewers.append(v)
            stopped = declared[-1] and p_value < STOP_P
        power += declared
        # From the largest N down: B declared at every grid point from here.
        stays = np.flatnonzero(~np.cumprod(np.array(declared)[::-1]).astype(bool))
        first = len(GRID) - (stays[0] if len(stays) else len(GRID))
        found = first < len(GRID)
        needed.append(float(GRID[first]) if found else math.inf)
        viewers_needed.append(float(viewers[first]) if found else math.inf)
    power /= SIMULATIONS
    reached = np.flatnonzero(power >= 0.95)
    figures = {
        "median_sessions_needed": float(np.median(needed)),
        "median_viewers_needed": float(np.median(viewers_needed)),
        "never_within_grid": int(sum(not math.isfinite(n) for n in needed)),
        "power_by_sessions": {
            int(n): round(float(p), 2) for n, p in zip(GRID, power, strict=True)
        },
        "budget_sessions": None,
        "budget_viewers": None,
        "picks_better_at_budget": None,
        "aa_declares_winner_at_budget": None,
    }
    if len(reached) == 0:
        return figures
    budget = int(GRID[reached[0]])
    log(f"{name}: budget {budget:,}; {SIMULATIONS} fresh runs")
    right, viewers = 0, []
    for s in range(SIMULATIONS):
        p_value, effect, v = Run(name, rows, aa=False, seed=1000 + s).test(budget)
        right += winner(p_value, effect, budget) == "B"
        viewers.append(v)
    figures["budget_sessions"] = budget
    figures["budget_viewers"] = round(float(np.mean(viewers)))
    figures["picks_better_at_budget"] = round(right / SIMULATIONS, 3)
    if aa:
        log(f"{name}: {AA_SIMULATIONS} A/A runs at {budget:,}")
        figures["aa_declares_winner_at_budget"] = aa_false_alarms(name, rows, budget)
    return figures


def truth(rows: Rows) -> dict:
    """Expected takes per session of A and B in each model, and each
    interleaving method's B share of the units preferring one ranker, by
    Monte Carlo on ``TRUTH_SESSIONS`` sessions (so the cap is included)."""
    out = {"takes_per_session": {}, "difference": {}, "relative_difference": {}}
    for model, name in (
        ("per_session", "ab_per_session"),
        ("per_viewer", "ab_per_viewer"),
    ):
        mean = []
        for arm in (0, 1):
            run = Run(name, rows, aa=False, seed=9000 + arm, arm=arm)
            run.grow(TRUTH_SESSIONS)
            mean.append(float(run.x.sum() / run.sessions.sum()))
        out["takes_per_session"][model] = {
            "A": round(mean[0], 4),
            "B": round(mean[1], 4),
        }
        out["difference"][model] = round(mean[1] - mean[0], 4)
        out["relative_difference"][model] = round((mean[1] - mean[0]) / mean[0], 4)
    out["interleaving_share_b"] = {}
    for name, method in METHODS.items():
        if method.design == "interleaving":
            run = Run(name, rows, aa=False, seed=9002).grow(TRUTH_SESSIONS)
            wins_b, wins_a = int((run.y > run.x).sum()), int((run.x > run.y).sum())
            out["interleaving_share_b"][name] = round(
                wins_b / max(wins_a + wins_b, 1), 4
            )
    return out


def check_credit(rows: Rows) -> None:
    """The simulated credit is the engine's own (a spot check, both ways of
    labelling the teams), and marking shared picks only relabels them."""
    rng = np.random.default_rng([SEED, 7777])
    assert ((rows.marked_ab == rows.team_ab) | (rows.marked_ab == SHARED)).all()
    for teams in (rows.team_ab[0], rows.marked_ab[0]):
        took = taken(rng, rows.like_ab[0], np.full(DRAFT_SEEDS, 0.5, np.float32))
        for row, team in zip(took, teams, strict=True):
            expected = (int((row & (team == 0)).sum()), int((row & (team == 1)).sum()))
            assert interleaving_credit(team.tolist(), row.tolist()) == expected


def scenario_figures(scenario: str, rows: Rows) -> dict:
    log(f"scenario {scenario}: the truth")
    out = {"truth": truth(rows)}
    log(
        f"scenario {scenario}: shared picks {float((rows.marked_ab == SHARED).mean()):.3f} of cards"
    )
    out["shared_card_share"] = round(float((rows.marked_ab == SHARED).mean()), 4)
    # A/A does not depend on B: run once, in the primary scenario.
    aa = scenario == SCENARIOS[0]
    methods = {name: method_figures(name, rows, aa=aa) for name in METHODS}
    out["methods"] = methods
    out["ratios"] = {}
    for label, (ab, il) in RATIOS.items():
        ab, il = methods[ab], methods[il]
        both = ab["budget_sessions"] and il["budget_sessions"]
        out["ratios"][label] = {
            "median_sessions": round(
                ab["median_sessions_needed"] / il["median_sessions_needed"], 1
            ),
            "budget_sessions": (
                round(ab["budget_sessions"] / il["budget_sessions"], 1)
                if both
                else None
            ),
        }
    return out


def main() -> None:
    began = time.perf_counter()
    scenarios = rankers()
    check_credit(scenarios["swap"])
    log("assigning the simulated profiles")
    profile_arms()
    out = {name: scenario_figures(name, rows) for name, rows in scenarios.items()}
    print(
        json.dumps(
            {
                "bench": "experiments",
                "seed": SEED,
                "viewers": len(scenarios["swap"].like_b),
                "cards": K,
                "simulations": SIMULATIONS,
                "aa_simulations": AA_SIMULATIONS,
                "swap_share": SWAP,
                "exploration_a": EXPLORATION,
                "sessions_per_viewer": 1 + RETURNS[0] * RETURNS[1],
                **out,
                "elapsed_s": round(time.perf_counter() - began, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
