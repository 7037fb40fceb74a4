"""The engine at MovieLens 1M and 10M scale, on synthetic data, no database.

Generates ratings shaped like ml-1m (default) or ml-10m (``--size 10m`` or
``BENCH_SCALE_SIZE=10m``): Zipf-like title popularity, long-tailed activity
per profile, half-star ratings from a low-rank latent model plus noise. Then
times ``fit_recommender`` with the site's training settings and candidate
generation for every profile in shards of 1,000, as the Celery shards do.

Prints one JSON line. Targets: 1M under 60 s in total, 10M under 10 minutes.
"""

import os

# Let numpy's BLAS use every core (the Celery worker pins it to one; see Procfile).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.pop(_var, None)

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import ROOT, log  # noqa: E402

sys.path.insert(0, str(ROOT))
from recommendations.engine.dataset import Interactions  # noqa: E402
from recommendations.engine.experiment import (  # noqa: E402
    TrainingConfig,
    fit_recommender,
    histories_of,
)

#: (profiles, titles, ratings, target seconds), as in the MovieLens sets.
SIZES = {
    "1m": (6_040, 3_706, 1_000_209, 60),
    "10m": (69_878, 10_677, 10_000_054, 600),
}
SHARD = 1_000
CANDIDATES = 300


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def training_config() -> TrainingConfig:
    """The site's TrainingConfig, read from config/settings.py without Django's setup."""
    os.environ.setdefault("MARQUEE_VAR_DIR", str(ROOT / "var" / "bench"))
    spec = importlib.util.spec_from_file_location(
        "_bench_settings", ROOT / "config" / "settings.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    conf = module.RECOMMENDER
    return TrainingConfig(
        algorithm=conf["ALGORITHM"],
        params=dict(conf["PARAMS"]),
        ease_lambda=conf["EASE_LAMBDA"],
        min_profiles=conf["MIN_PROFILES"],
        max_items=conf["MAX_ITEMS"],
        blend=conf["BLEND"],
        fold_in_reg=conf["FOLD_IN_REG"],
    )


def synthetic(
    n_users: int, n_items: int, n_ratings: int, seed: int = 0
) -> Interactions:
    """MovieLens-shaped ratings, one per (profile, title), generated vectorised."""
    rng = np.random.default_rng(seed)
    # Title popularity: Zipf-Mandelbrot over a random order of the title ids.
    rank = np.arange(1, n_items + 1)
    popularity = (rank + 50.0) ** -1.0
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
    raw = (
        3.55
        + u_bias[users]
        + i_bias[items]
        + np.einsum("ij,ij->i", u_vec[users], i_vec[items])
        + rng.normal(0.0, 0.8, n_ratings)
    )
    values = np.clip(np.round(raw * 2) / 2, 0.5, 5.0)
    title_ids = rng.permutation(n_items).astype(np.int64) + 1
    times = rng.integers(946_684_800, 1_704_067_200, n_ratings)
    return Interactions(
        users=users.astype(np.int64) + 1,
        items=title_ids[items],
        values=values,
        times=times,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--size",
        choices=sorted(SIZES),
        default=os.environ.get("BENCH_SCALE_SIZE", "1m").lower(),
    )
    size = parser.parse_args().size
    n_users, n_items, n_ratings, target = SIZES[size]
    config = training_config()
    began = time.perf_counter()

    log(f"{size}: generating {n_ratings:,} ratings")
    start = time.perf_counter()
    inter = synthetic(n_users, n_items, n_ratings)
    generate_s = time.perf_counter() - start
    per_user = np.bincount(inter.users)[1:]
    per_item = np.unique(inter.items, return_counts=True)[1]
    log(f"generated in {generate_s:.1f} s")

    log(f"fit_recommender ({config.algorithm}, {config.params})")
    start = time.perf_counter()
    model, timings = fit_recommender(inter, config)
    fit_s = time.perf_counter() - start
    log(f"fitted in {fit_s:.1f} s: {timings}")

    start = time.perf_counter()
    profile_ids = np.unique(inter.users)
    histories = histories_of(inter, profile_ids)
    histories_s = time.perf_counter() - start
    scored = 0
    for lo in range(0, len(histories), SHARD):
        scored += len(model.candidates(histories[lo : lo + SHARD], count=CANDIDATES))
        if (lo // SHARD) % 10 == 0:
            log(f"candidates: {scored}/{len(histories)}")
    candidates_s = time.perf_counter() - start
    total_s = time.perf_counter() - began
    log(f"candidates in {candidates_s:.1f} s; total {total_s:.1f} s")

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
                "generate_s": round(generate_s, 2),
                "fit_rating_s": round(timings["fit_rating_s"], 2),
                "fit_ranking_s": round(timings["fit_ranking_s"], 2),
                "fit_s": round(fit_s, 2),
                "histories_s": round(histories_s, 2),
                "candidates_s": round(candidates_s, 2),
                "candidates_ms_per_profile": round(
                    candidates_s * 1000 / len(profile_ids), 3
                ),
                "shard_size": SHARD,
                "engine_s": round(fit_s + candidates_s, 2),
                "total_s": round(total_s, 2),
                "target_total_s": target,
                "peak_rss_mb": peak_rss_mb(),
                "cpus": os.cpu_count(),
                "loadavg_1m_at_end": round(os.getloadavg()[0], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
