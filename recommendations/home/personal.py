"""The rows of one profile: Continue watching, Short on time, Top picks,
"Because you…", My List, its genres, Hidden gems and Outside your usual.

Built from its stored candidates, its signals and the ranking model's
nearest titles (``RankingModel.nearest``); see the rule book in ``rows``.
"""

from dataclasses import replace

import numpy as np
from django.urls import reverse

from recommendations.engine import online, rerank
from recommendations.home.rows import (
    BECAUSE_ROWS,
    GENRE_ROW_MIN_SHARE,
    GENRE_ROWS,
    MIN_ROW,
    NEIGHBOURS,
    OUTSIDE_BASE,
    OUTSIDE_EXTRA,
    OUTSIDE_MAX_SHARE,
    OUTSIDE_MIN_MEAN,
    OUTSIDE_MIN_RATINGS,
    OUTSIDE_QUANTILE,
    ROW_LENGTH,
    SEEDS_LOOKED_AT,
    SHORT_RUNTIME,
    TOP_PICKS_POOL,
    TOP_PICKS_SHORTLIST,
    RowDraft,
    RowInputs,
    match_percent,
    ratings_label,
)
from recommendations.home.signals import Viewing


def _continue_percent(v: Viewing) -> int:
    return round((v.up_next_progress if v.up_next_code else v.progress) * 100)


def _continue_why(v: Viewing) -> str:
    """ "42% watched"; of a series, the episode it resumes at: "S2:E4"."""
    if v.up_next_code:
        return v.up_next_code
    return f"{_continue_percent(v)}% watched"


class PersonalRows(RowInputs):
    """Builders of a profile's own rows; each returns a :class:`RowDraft`
    (or None, or a list of them). Only for a page with signals and
    candidates (``personal``)."""

    def candidate_pool(self) -> tuple[np.ndarray, np.ndarray]:
        return self.candidates.pos, self.candidates.scores

    def continue_watching(self) -> RowDraft | None:
        latest: dict[int, Viewing] = {}
        for v in self.signals.viewings:
            latest.setdefault(v.title_id, v)
        unfinished = [v for v in latest.values() if v.continues]
        pos = self.snap.index([v.title_id for v in unfinished])
        keep = [
            v
            for v, p in zip(unfinished, pos, strict=True)
            if p >= 0 and self.visible[p]
        ]
        if not keep:
            return None
        return RowDraft(
            slot="continue",
            key="continue",
            kind="continue",
            name="Continue watching",
            reason="Pick up where you left off.",
            ids=[v.title_id for v in keep],
            why={v.title_id: _continue_why(v) for v in keep},
            min_len=1,
            more_url=reverse("activity:continue_watching"),
            progress={v.title_id: (v.id, _continue_percent(v)) for v in keep},
        )

    def my_list(self) -> RowDraft | None:
        pos = self.snap.index(self.signals.my_list)
        pos = pos[pos >= 0]
        pos = pos[self.visible[pos]]
        if len(pos) == 0:
            return None
        return RowDraft(
            slot="my-list",
            key="my-list",
            kind="my-list",
            name="My List",
            reason="Titles you saved for later.",
            ids=self.ids(pos),
            why={int(self.snap.ids[p]): "On My List" for p in pos},
            min_len=1,
            more_url=reverse("activity:my_list"),
        )

    def top_picks(self) -> RowDraft | None:
        """Top picks; in an interleaving test, two arms' rankings merged by
        team draft, each card remembering the arm that contributed it."""
        if self.interleave is None:
            return self.top_picks_under(self.exploration, self.calibration)
        (key_a, *tuning_a), (key_b, *tuning_b) = self.interleave.a, self.interleave.b
        a = self.top_picks_under(*tuning_a)
        b = self.top_picks_under(*tuning_b)
        if a is None or b is None:
            return None
        k = min(len(set(a.ids) | set(b.ids)), TOP_PICKS_SHORTLIST)
        merged = online.team_draft(
            a.ids, b.ids, k, self.interleave.seed, mark_shared=True
        )
        # A title both rankings would have placed there is both arms' ("AB"):
        # the coin chose its team, so the analysis credits neither with it.
        team_key = {0: key_a, 1: key_b, online.SHARED: key_a + key_b}
        return replace(
            a,
            reason="Ranked for you from your ratings, plays and picks.",
            ids=[int(t) for t, _ in merged],
            why={**b.why, **a.why},
            rankers={int(t): team_key[team] for t, team in merged},
        )

    def top_picks_under(self, exploration: int, calibration: bool) -> RowDraft | None:
        """Top picks ranked with this exploration and calibration."""
        pos, scores = self.candidate_pool()
        if len(pos) == 0:
            return None
        pos, scores = pos[:TOP_PICKS_POOL], scores[:TOP_PICKS_POOL]
        adjusted = self.adjust(pos, scores, boost=True)
        features = self.snap.features[pos]
        lam = rerank.exploration_lambda(exploration)
        picked = rerank.mmr(adjusted, features, lam=lam, k=TOP_PICKS_SHORTLIST)
        if calibration and self.taste.sum() > 0:
            chosen = rerank.calibrate(
                adjusted[picked], features[picked], self.taste, k=2 * ROW_LENGTH
            )
            picked = picked[chosen]
        pos = pos[picked]
        reason = "Ranked for you from your ratings, plays and picks"
        notes = []
        if exploration >= 50:
            notes.append("with plenty of variety")
        if calibration and self.taste.sum() > 0:
            notes.append("in the genre mix of your history")
        if notes:
            reason += ", " + " and ".join(notes)
        reason += "."
        if self.late_or_mobile:
            reason += f" {rerank.context_reason(self.context)}: shorter titles first."
        if self.mood is not None:
            reason += f" Mood: {self.mood.label}."
        why = {}
        for p in pos:
            m = match_percent(self.candidates.predicted_at(p))
            why[int(self.snap.ids[p])] = f"{m}% match"
        return RowDraft(
            slot="top-picks",
            key="top-picks",
            kind="top-picks",
            name=f"Top picks for {self.profile_name}",
            reason=reason,
            ids=self.ids(pos),
            why=why,
        )

    def because(self) -> list[RowDraft]:
        drafts: list[RowDraft] = []
        seeds = self.signals.seeds()[:SEEDS_LOOKED_AT]
        seed_pos = self.snap.index([t for t, _ in seeds])
        # A title also turned down counts against its neighbours: no seed.
        turned_down = self.signals.turned_down()
        for (seed, how), sp in zip(seeds, seed_pos, strict=True):
            if len(drafts) == BECAUSE_ROWS:
                break
            if sp < 0 or not self.visible[sp] or seed in turned_down:
                continue
            found, weights = self.model.nearest(seed, NEIGHBOURS)
            pos = self.snap.index(found)
            # Only titles whose score the seed raises, so "Because you…" is
            # true of each (a cold title's score moves with the mean too).
            keep = (pos >= 0) & (self.model.lifted_by(seed, found) > 0)
            keep[keep] = self.recommendable[pos[keep]]
            pos, weights = pos[keep], weights[keep]
            if len(pos) < MIN_ROW:
                continue
            # How close to the seed, times how much the profile would like it:
            # its candidates by their rank (x1 for the first down to x0.5), the
            # other neighbours at x0.25, so a weak neighbour the profile's
            # main taste favours does not lead a row about another taste.
            ranks = np.array([self.candidates.rank.get(int(p), -1) for p in pos])
            liking = np.where(
                ranks >= 0, 1.0 - 0.5 * ranks / max(len(self.candidates.pos), 1), 0.25
            )
            score = (0.1 + rerank.normalise(weights)) * liking
            pos = self.ranked(pos, score, boost=True)
            ids = self.ids(pos)
            verb = how.split(" ")[0]
            drafts.append(
                RowDraft(
                    slot=f"because-{len(drafts)}",
                    key=f"because-{seed}",
                    kind="because",
                    name=f"Because you {verb} {{seed}}",
                    reason=_because_reason(how),
                    ids=ids,
                    why={t: "Because you liked {seed}" for t in ids},
                    seed_id=seed,
                )
            )
        return drafts

    def genre_rows(self) -> list[RowDraft]:
        snap = self.snap
        drafts = []
        pos_all, scores_all = self.candidate_pool()
        n = 0
        for j in np.argsort(-self.taste, kind="stable"):
            if n == GENRE_ROWS or self.taste[j] < GENRE_ROW_MIN_SHARE:
                break
            g = snap.genre_order[j]
            member = snap.features[pos_all, j] > 0
            pos = self.ranked(pos_all[member], scores_all[member], boost=True)
            if len(pos) < MIN_ROW:
                continue
            name = snap.genre_names[g]
            drafts.append(
                RowDraft(
                    slot=f"genre-{n}",
                    key=f"genre-{snap.genre_slugs[g]}",
                    kind="genre",
                    name=f"{name} you’ll like",
                    reason=f"{name} is {round(self.history_taste[j] * 100)}% of "
                    f"{self.taste_made_of}{_asked(self.taste_factors[j])}; these "
                    "are ranked for you.",
                    ids=self.ids(pos[: 3 * ROW_LENGTH]),
                    why={int(snap.ids[p]): name for p in pos[: 3 * ROW_LENGTH]},
                    more_url=reverse("catalog:genre", args=[snap.genre_slugs[g]]),
                )
            )
            n += 1
        return drafts

    def gems(self) -> RowDraft | None:
        pos = self.candidates.gem_positions(self.snap)
        predicted = self.candidates.predicted[
            [self.candidates.rank[int(p)] for p in pos]
        ]
        pos = self.ranked(pos, predicted, boost=True)
        return RowDraft(
            slot="gems",
            key="gems",
            kind="gems",
            name="Hidden gems for you",
            reason="Less known titles we predict you’ll rate highly.",
            ids=self.ids(pos),
            why={
                int(self.snap.ids[p]): ratings_label(self.snap, p, "Hidden gem")
                for p in pos
            },
        )

    def outside(self) -> RowDraft | None:
        snap = self.snap
        if self.taste.sum() <= 0 or not snap.genre_order:
            return None
        rare = np.maximum(self.taste, self.history_taste) < OUTSIDE_MAX_SHARE
        has_genre = snap.features.sum(axis=1) > 0
        usual = (snap.features[:, ~rare] > 0).any(axis=1)
        rated = self.visible & (snap.rating_count >= OUTSIDE_MIN_RATINGS)
        if not rated.any():
            return None
        well_liked = min(
            OUTSIDE_MIN_MEAN, np.quantile(snap.bayes_mean[rated], OUTSIDE_QUANTILE)
        )
        ok = (
            self.recommendable
            & rated
            & has_genre
            & ~usual
            & (snap.bayes_mean >= well_liked)
        )
        pos = np.flatnonzero(ok)
        if len(pos) == 0:
            return None
        pos = pos[np.lexsort((snap.ids[pos], -snap.bayes_mean[pos]))][: 3 * ROW_LENGTH]
        pos = self.ranked(pos, snap.bayes_mean[pos], boost=True)
        length = OUTSIDE_BASE + round(OUTSIDE_EXTRA * self.exploration / 100)
        return RowDraft(
            slot="outside",
            key="outside",
            kind="outside",
            name="Outside your usual",
            reason="Well-liked titles from genres you rarely watch. "
            "Raise exploration to see more of them.",
            ids=self.ids(pos),
            why={int(snap.ids[p]): self.main_genre(p) for p in pos},
            max_len=length,
        )

    def short_on_time(self) -> RowDraft | None:
        if not self.late_or_mobile:
            return None
        pos, scores = self.candidate_pool()
        runtime = self.snap.runtime[pos]
        short = np.isfinite(runtime) & (runtime <= SHORT_RUNTIME)
        pos = self.ranked(pos[short], scores[short], boost=True)
        return RowDraft(
            slot="short",
            key="short",
            kind="short",
            name="Short on time",
            reason=f"{rerank.context_reason(self.context)}: titles of "
            f"{SHORT_RUNTIME} minutes or less, ranked for you.",
            ids=self.ids(pos),
            why={
                int(self.snap.ids[p]): f"{int(self.snap.runtime[p])} min" for p in pos
            },
        )


def _asked(factor: float) -> str:
    """What the viewer set for a genre on its taste sliders, as a clause."""
    if factor > 1:
        return ", and you asked for more of it"
    if factor < 1:
        return ", and you asked for less of it"
    return ""


def _because_reason(how: str) -> str:
    if how.startswith("rated"):
        return f"You rated it {how.partition(' ')[2]}; viewers who liked it also loved these."
    if how == "watched":
        return "You watched it to the end; viewers who liked it also loved these."
    return "Viewers who liked it also loved these."
