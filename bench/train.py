"""Training on ml-latest-small, end to end, and numpy scoring against Surprise.

Imports ml-latest-small into a fresh PostgreSQL database (not timed), then
times the dataset build, a full ``model_train`` with Celery eager (evaluate,
fit, publish, promote and the candidate shards, all in-process), and the
candidates for every profile on their own. Then compares scoring every
profile × every title with one numpy matrix product against Surprise's
per-pair ``algo.predict`` (timed on a random sample, extrapolated per pair).

Prints one JSON line. Targets: end to end under 30 s; numpy at least 200×
faster per pair than ``predict``.
"""

import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import fresh_django, log

fresh_django("marquee_bench_train")

from django.conf import settings  # noqa: E402

from catalog.services import movielens_import  # noqa: E402
from config.celery import app  # noqa: E402
from recommendations.engine.rating import fit_rating_model  # noqa: E402
from recommendations.models import ProfileCandidates  # noqa: E402
from recommendations.services import candidates, dataset, training  # noqa: E402

SURPRISE_SAMPLE = 200_000
TARGET_END_TO_END_S = 30
TARGET_SPEEDUP = 200

app.conf.task_always_eager = True
app.conf.task_eager_propagates = True

folder = Path(settings.MOVIELENS_DIR) / "ml-latest-small"
log(f"importing {folder} (not timed)")
movielens_import(folder=folder)

# --- dataset ------------------------------------------------------------------
start = time.perf_counter()
inter = dataset.training_dataset()
dataset_s = time.perf_counter() - start
log(f"dataset: {len(inter)} rows in {dataset_s:.2f} s")

# --- full training, candidates included (eager) -----------------------------------
log("model_train (eager: candidate shards run in-process)")
start = time.perf_counter()
version = training.model_train()
end_to_end_s = time.perf_counter() - start
if version.status != version.Status.ACTIVE:
    raise SystemExit(f"version {version.pk} is {version.status}: {version.error}")
stored = ProfileCandidates.objects.filter(model_version=version).count()
log(f"model_train: {end_to_end_s:.2f} s, {stored} profiles' candidates stored")

# --- candidates for every profile, on their own -------------------------------------
shards = candidates.candidate_shards()
start = time.perf_counter()
scored = sum(
    candidates.candidates_score_profiles(version=version, profile_ids=shard)
    for shard in shards
)
candidates_s = time.perf_counter() - start
log(f"candidates: {scored} profiles in {len(shards)} shards, {candidates_s:.2f} s")

# --- numpy scoring against Surprise's predict loop ------------------------------------
conf = settings.RECOMMENDER
model, algo = fit_rating_model(
    dataset.training_dataset(),
    algorithm=conf["ALGORITHM"],
    params=conf["PARAMS"],
    fold_in_reg=conf["FOLD_IN_REG"],
)
n_users, n_items = len(model.user_ids), len(model.item_ids)
all_users = np.arange(n_users)
model.scores(all_users)  # warm-up
runs = []
for _ in range(5):
    start = time.perf_counter()
    matrix = model.scores(all_users)
    runs.append(time.perf_counter() - start)
numpy_s = min(runs)
numpy_per_pair = numpy_s / matrix.size
log(f"numpy: {n_users}×{n_items} in {numpy_s * 1000:.1f} ms")

rng = np.random.default_rng(0)
sample = min(SURPRISE_SAMPLE, matrix.size)
u_rows = rng.integers(0, n_users, sample)
i_rows = rng.integers(0, n_items, sample)
raw_u = model.user_ids[u_rows].tolist()
raw_i = model.item_ids[i_rows].tolist()
log(f"surprise: predict() on {sample} random pairs")
start = time.perf_counter()
est = [algo.predict(u, i).est for u, i in zip(raw_u, raw_i, strict=True)]
surprise_s = time.perf_counter() - start
surprise_per_pair = surprise_s / sample
max_diff = float(
    np.max(np.abs(np.clip(matrix[u_rows, i_rows], 0.5, 5.0) - np.asarray(est)))
)

metrics = version.metrics
print(
    json.dumps(
        {
            "bench": "train",
            "dataset": folder.name,
            "algorithm": version.algorithm,
            "data": version.data_counts,
            "dataset_s": round(dataset_s, 3),
            "model_train_timings": {
                k: round(v, 3) for k, v in (version.timings or {}).items()
            },
            "candidates": {
                "profiles": scored,
                "shards": len(shards),
                "seconds": round(candidates_s, 3),
                "ms_per_profile": round(candidates_s * 1000 / max(scored, 1), 3),
            },
            "end_to_end_s": round(end_to_end_s, 2),
            "target_end_to_end_s": TARGET_END_TO_END_S,
            "metrics": {
                "rmse": metrics["rating"]["rmse"],
                "mae": metrics["rating"].get("mae"),
                "ndcg@10": metrics["ranking"]["ndcg@10"],
                "popularity_ndcg@10": metrics["popularity"]["ndcg@10"],
            },
            "scoring": {
                "pairs": int(matrix.size),
                "numpy_all_pairs_s": round(numpy_s, 4),
                "numpy_ns_per_pair": round(numpy_per_pair * 1e9, 3),
                "surprise_sample_pairs": sample,
                "surprise_sample_s": round(surprise_s, 2),
                "surprise_ns_per_pair": round(surprise_per_pair * 1e9, 1),
                "surprise_all_pairs_s_extrapolated": round(
                    surprise_per_pair * matrix.size, 1
                ),
                "speedup": round(surprise_per_pair / numpy_per_pair),
                "target_speedup": TARGET_SPEEDUP,
                "max_abs_diff_clipped": max_diff,
            },
            "peak_rss_mb": round(
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
            ),
            "loadavg_1m_at_end": round(os.getloadavg()[0], 2),
        }
    )
)
