"""The engine at MovieLens 1M, 10M and 25M scale, on synthetic data, no database.

Generates ratings shaped like ml-1m (default), ml-10m or ml-25m (``--size
10m``, ``--size 25m`` or ``BENCH_SCALE_SIZE``): Zipf-like title popularity
(longer-tailed for 25m, as in ml-25m), long-tailed activity per profile,
half-star ratings from a low-rank latent model plus noise. Then runs the
pipeline stage by stage as ``fit_recommender`` does: dataset (generating the
arrays), fit (Surprise with the site's training settings, then EASE over at
most ``MAX_ITEMS`` titles),
publish (the ``.npz`` written by ``engine.artifact.save``) and candidates for
every profile in shards of the site's ``SHARD_SIZE``, as the Celery shards do.

Prints one JSON line with each stage's seconds and the peak RSS after it, and
the machine's load average (it is shared) when the run began and ended.
Targets: 1M under 60 s in total, 10M under 10 minutes, 25M under 15 minutes
with a peak RSS under 12 GiB.
"""

import os

# Run as a script, let numpy's BLAS use every core (the Celery worker pins it
# to one; see Procfile); imported (bench/scale_out.py), leave it to the importer.
if __name__ == "__main__":
    for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        os.environ.pop(_var, None)

import argparse
import importlib.util
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import ROOT, log

sys.path.insert(0, str(ROOT))
from recommendations.engine import artifact
from recommendations.engine.dataset import Interactions
from recommendations.engine.experiment import (
    TrainingConfig,
    histories_of,
)
from recommendations.engine.ranking import fit_ease
from recommendations.engine.rating import fit_rating_model
from recommendations.engine.recommender import Recommender

#: (profiles, titles, ratings, target seconds), as in the MovieLens sets.
SIZES = {
    "1m": (6_040, 3_706, 1_000_209, 60),
    "10m": (69_878, 10_677, 10_000_054, 600),
    "25m": (162_541, 62_423, 25_000_095, 900),
}
#: Title popularity (rank + offset) ** -exponent. ml-25m's catalogue has a far
#: longer tail than ml-1m's or ml-10m's (median title: a handful of ratings).
POPULARITY = {"1m": (1.0, 50.0), "10m": (1.0, 50.0), "25m": (1.5, 100.0)}
TARGET_PEAK_RSS_MB = {"25m": 12 * 1024}
CANDIDATES = 300


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def site_settings():
    """config/settings.py, read without Django's setup."""
    os.environ.setdefault("MARQUEE_VAR_DIR", str(ROOT / "var" / "bench"))
    spec = importlib.util.spec_from_file_location(
        "_bench_settings", ROOT / "config" / "settings.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def training_config(conf: dict) -> TrainingConfig:
    """The site's TrainingConfig (settings.RECOMMENDER)."""
    return TrainingConfig.from_settings(conf)


def synthetic(
    n_users: int,
    n_items: int,
    n_ratings: int,
    seed: int = 0,
    popularity_shape: tuple[float, float] = (1.0, 50.0),
) -> Interactions:
    """MovieLens-shaped ratings, one per (profile, title), generated vectorised."""
    rng = np.random.default_rng(seed)
    # Title popularity: Zipf-Mandelbrot over a random order of the title ids.
    rank = np.arange(1, n_items + 1)
    exponent, offset = popularity_shape
    popularity = (rank + offset) ** -exponent
    popularity /= popularity.sum()
    # Activity per profile: at least 20 (as in MovieLens), log-normal tail,
    # at most half the catalogue; scaled to the exact number of ratings.
    tail = rng.lognormal(0.0, 1.05, n_users)
    floor, cap = 20, n_items // 2
    counts = np.minimum(
        floor + np.floor(tail * (n_ratings - floor * n_users) / tail.sum()), cap
    ).astype(np.int64)
    while (short := n_ratings - counts.sum()) > 0:
        room = np.flatnonzero(counts < cap)
        np.add.at(counts, rng.choice(room, min(short, len(room))), 1)
        counts = np.minimum(counts, cap)
    users = np.repeat(np.arange(n_users), counts)
    # Titles drawn by popularity; a profile's repeats are drawn again until
    # every (profile, title) pair is unique (rechecking only the profiles
    # that still had a repeat: heavy raters take many rounds).
    items = rng.choice(n_items, size=n_ratings, p=popularity)
    rows = np.arange(n_ratings)
    while True:
        _, first = np.unique(users[rows] * n_items + items[rows], return_index=True)
        again = np.ones(len(rows), bool)
        again[first] = False
        if not again.any():
            break
        redo = rows[again]
        items[redo] = rng.choice(n_items, size=len(redo), p=popularity)
        rows = np.flatnonzero(np.isin(users, np.unique(users[redo])))
    # Ratings: a low-rank taste model plus noise, on the half-star scale.
    factors = 8
    u_vec = rng.normal(0.0, 0.42, (n_users, factors))
    i_vec = rng.normal(0.0, 0.42, (n_items, factors))
    u_bias = rng.normal(0.0, 0.35, n_users)
    i_bias = rng.normal(0.0, 0.35, n_items) - 0.15 * np.log(rank / rank.mean())
    raw = 3.55 + u_bias[users] + i_bias[items]
    for lo in range(0, n_ratings, 1 << 20):
        # In slices: the (ratings × factors) operands would take 1.6 GB at 25M.
        hi = lo + (1 << 20)
        raw[lo:hi] += np.einsum("ij,ij->i", u_vec[users[lo:hi]], i_vec[items[lo:hi]])
    raw += rng.normal(0.0, 0.8, n_ratings)
    values = np.clip(np.round(raw * 2) / 2, 0.5, 5.0)
    title_ids = rng.permutation(n_items).astype(np.int64) + 1
    times = rng.integers(946_684_800, 1_704_067_200, n_ratings)
    return Interactions(
        users=users.astype(np.int64) + 1,
        items=title_ids[items],
        values=values,
        times=times,
    )


class Stages:
    """Each stage's seconds and the process's peak RSS when it ended."""

    def __init__(self) -> None:
        self.table: list[dict] = []

    def run(self, name: str, work, *args, **kwargs):
        log(f"{name} ...")
        start = time.perf_counter()
        result = work(*args, **kwargs)
        seconds = time.perf_counter() - start
        self.table.append(
            {"stage": name, "s": round(seconds, 2), "peak_rss_mb": peak_rss_mb()}
        )
        log(f"{name}: {seconds:.1f} s, peak RSS {peak_rss_mb():,.0f} MB")
        return result

    def seconds(self, name: str) -> float:
        return next(row["s"] for row in self.table if row["stage"] == name)


def score_everyone(model, histories, shard_size: int) -> int:
    scored = 0
    for lo in range(0, len(histories), shard_size):
        batch = histories[lo : lo + shard_size]
        scored += len(model.candidates(batch, count=CANDIDATES))
        if (lo // shard_size) % 40 == 0:
            log(f"candidates: {scored:,}/{len(histories):,}")
    return scored


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--size",
        choices=sorted(SIZES),
        default=os.environ.get("BENCH_SCALE_SIZE", "1m").lower(),
    )
    size = parser.parse_args().size
    n_users, n_items, n_ratings, target = SIZES[size]
    recommender_settings = site_settings().RECOMMENDER
    config = training_config(recommender_settings)
    shard_size = recommender_settings["SHARD_SIZE"]
    load_at_start = os.getloadavg()
    began = time.perf_counter()
    stages = Stages()

    inter = stages.run(
        "dataset",
        synthetic,
        n_users,
        n_items,
        n_ratings,
        popularity_shape=POPULARITY[size],
    )
    per_user = np.bincount(inter.users)[1:]
    per_item = np.unique(inter.items, return_counts=True)[1]

    log(f"fit: {config.algorithm} {config.params}; EASE <= {config.max_items}")
    rating, _ = stages.run(
        "fit_rating",
        fit_rating_model,
        inter,
        algorithm=config.algorithm,
        params=config.params,
        fold_in_reg=config.fold_in_reg,
    )
    ranking = stages.run(
        "fit_ranking",
        fit_ease,
        inter,
        lam=config.ease_lambda,
        min_profiles=config.min_profiles,
        max_items=config.max_items,
        sequence_weight=config.sequence_weight,
        sequence_window=config.sequence_window,
        popularity_beta=config.popularity_beta,
        recency_half_life=config.recency_half_life,
    )
    model = Recommender(
        rating, ranking, config.blend, recency_half_life=config.recency_half_life
    )

    with tempfile.TemporaryDirectory(prefix="bench-scale-") as folder:
        path = Path(folder) / "model.npz"
        stages.run("publish", lambda: artifact.save(path, model.to_arrays()))
        artifact_mb = round(path.stat().st_size / 2**20, 1)

    profile_ids = np.unique(inter.users)
    histories = stages.run("histories", histories_of, inter, profile_ids)
    scored = stages.run("candidates", score_everyone, model, histories, shard_size)
    total_s = time.perf_counter() - began
    log(f"total {total_s:.1f} s")
    candidates_s = stages.seconds("candidates")
    peak = peak_rss_mb()

    print(
        json.dumps(
            {
                "bench": "scale",
                "size": size,
                "data": {
                    "profiles": len(profile_ids),
                    "titles": len(per_item),
                    "ratings": len(inter),
                    "rankable_titles": len(model.ranking.item_ids),
                    "ratings_per_profile": {
                        "min": int(per_user.min()),
                        "median": float(np.median(per_user)),
                        "max": int(per_user.max()),
                    },
                    "ratings_per_title": {
                        "min": int(per_item.min()),
                        "median": float(np.median(per_item)),
                        "max": int(per_item.max()),
                    },
                    "mean_rating": round(float(inter.values.mean()), 3),
                },
                "config": config.as_dict(),
                "stages": stages.table,
                "generate_s": stages.seconds("dataset"),
                "fit_rating_s": stages.seconds("fit_rating"),
                "fit_ranking_s": stages.seconds("fit_ranking"),
                "fit_s": round(
                    stages.seconds("fit_rating") + stages.seconds("fit_ranking"), 2
                ),
                "publish_s": stages.seconds("publish"),
                "artifact_mb": artifact_mb,
                "histories_s": stages.seconds("histories"),
                "candidates_s": candidates_s,
                "profiles_scored": scored,
                "candidates_ms_per_profile": round(
                    candidates_s * 1000 / len(profile_ids), 3
                ),
                "shard_size": shard_size,
                "total_s": round(total_s, 2),
                "target_total_s": target,
                "peak_rss_mb": peak,
                "target_peak_rss_mb": TARGET_PEAK_RSS_MB.get(size),
                "within_targets": total_s <= target
                and peak <= TARGET_PEAK_RSS_MB.get(size, float("inf")),
                "cpus": os.cpu_count(),
                "loadavg_at_start": [round(x, 2) for x in load_at_start],
                "loadavg_at_end": [round(x, 2) for x in os.getloadavg()],
            }
        )
    )


if __name__ == "__main__":
    main()
