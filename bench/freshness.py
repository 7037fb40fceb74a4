"""How fast a new rating reaches the profile's stored candidates.

Imports ml-latest-small into a fresh PostgreSQL database and trains once
(Celery eager). Then measures:

(a) in-process, over 50 random profiles: ``candidates.profile_refresh`` whole
    (read signals, fold in, rescore, store), and its pure engine part
    (``Recommender.candidates`` of one history that is folded in);
(b) with a real Celery worker on Redis, over 30 ratings: from the rating's
    commit (``transaction.on_commit`` → ``refresh_profile.delay``, as the site
    does) to the profile's ``ProfileCandidates.updated_at`` changing, polled
    every 5 ms.

Prints one JSON line. Targets: fold-in (engine) p95 under 20 ms; rating to
refreshed candidates p95 under 1 s.
"""

import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import ROOT, fresh_django, log

BROKER = os.environ.get("BENCH_CELERY_BROKER_URL", "redis://127.0.0.1:6379/14")
os.environ["CELERY_BROKER_URL"] = BROKER
os.environ["CELERY_RESULT_BACKEND"] = BROKER
os.environ.pop("CELERY_TASK_ALWAYS_EAGER", None)

fresh_django("marquee_bench_fresh")

from django.conf import settings  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from activity.models import Rating  # noqa: E402
from catalog.models import Title  # noqa: E402
from catalog.services import movielens_import  # noqa: E402
from config.celery import app  # noqa: E402
from recommendations import tasks  # noqa: E402
from recommendations.engine.recommender import History  # noqa: E402
from recommendations.models import ProfileCandidates  # noqa: E402
from recommendations.services import (  # noqa: E402
    candidates,
    dataset,
    training,
)

IN_PROCESS_PROFILES = 50
WORKER_RATINGS = 30
POLL_S = 0.005
WAIT_S = 15.0
TARGET_FOLD_IN_MS = 20
TARGET_P95_S = 1.0


def percentiles(values: list[float], scale: float = 1.0) -> dict[str, float]:
    a = np.asarray(values) * scale
    return {
        "p50": round(float(np.percentile(a, 50)), 2),
        "p95": round(float(np.percentile(a, 95)), 2),
        "max": round(float(a.max()), 2),
        "n": len(a),
    }


def stamp(profile_id: int):
    return (
        ProfileCandidates.objects.filter(profile_id=profile_id)
        .values_list("updated_at", flat=True)
        .first()
    )


folder = Path(settings.MOVIELENS_DIR) / "ml-latest-small"
log(f"importing {folder} (not timed)")
movielens_import(folder=folder)

log("training once, Celery eager")
app.conf.task_always_eager = True
app.conf.task_eager_propagates = True
version = training.model_train()
app.conf.task_always_eager = False
if version.status != version.Status.ACTIVE:
    raise SystemExit(f"version {version.pk} is {version.status}: {version.error}")
model = training.recommender_for(version)
count = settings.RECOMMENDER["CANDIDATES"]

# --- (a) in-process ------------------------------------------------------------------
rng = random.Random(0)
profile_ids = list(ProfileCandidates.objects.values_list("profile_id", flat=True))
sample = rng.sample(profile_ids, IN_PROCESS_PROFILES)
candidates.profile_refresh(profile_id=sample[0])  # warm-up
whole, engine, histories_ms = [], [], []
for pid in sample:
    start = time.perf_counter()
    candidates.profile_refresh(profile_id=pid)
    whole.append(time.perf_counter() - start)

    start = time.perf_counter()
    (history,) = dataset.profile_histories([pid])
    histories_ms.append(time.perf_counter() - start)
    history = History(**{**history.__dict__, "use_trained_vector": False})
    start = time.perf_counter()
    model.candidates([history], count=count)
    engine.append(time.perf_counter() - start)
log(f"in-process: refresh p50 {np.median(whole) * 1000:.1f} ms")

# --- (b) a real worker -------------------------------------------------------------------
import redis  # noqa: E402

redis.Redis.from_url(BROKER).flushdb()
worker_log = Path(settings.VAR_DIR) / "bench_freshness_worker.log"
worker_env = {
    **os.environ,
    # As the Procfile runs the worker: one BLAS thread per process.
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}
with worker_log.open("w") as out:
    worker = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "celery"),
            "-A",
            "config",
            "worker",
            "-Q",
            "default,training",
            "-c",
            "1",
            "--pool",
            "solo",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=worker_env,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
latencies, stamp_latencies = [], []
try:
    log(f"worker pid {worker.pid}; warming up with one refresh")
    started = time.perf_counter()
    warm = tasks.refresh_profile.apply_async((sample[0],), ignore_result=False)
    warm.get(timeout=120)
    log(f"worker warm after {time.perf_counter() - started:.1f} s")

    rated = set(Rating.objects.values_list("profile_id", "title_id"))
    title_ids = list(Title.objects.values_list("id", flat=True))
    for n in range(WORKER_RATINGS):
        pid = rng.choice(profile_ids)
        tid = rng.choice(title_ids)
        while (pid, tid) in rated:
            tid = rng.choice(title_ids)
        rated.add((pid, tid))
        before = stamp(pid)
        committed: dict[str, float] = {}

        def after_commit(pid=pid, committed=committed) -> None:
            committed["clock"] = time.perf_counter()
            committed["wall"] = time.time()
            tasks.refresh_profile.delay(pid)

        with transaction.atomic():
            now = timezone.now()
            Rating.objects.update_or_create(
                profile_id=pid,
                title_id=tid,
                defaults={"value": rng.choice(range(1, 11)) / 2, "updated_at": now},
            )
            transaction.on_commit(after_commit)
        while (current := stamp(pid)) == before:
            if time.perf_counter() - committed["clock"] > WAIT_S:
                raise SystemExit(f"profile {pid} not refreshed within {WAIT_S} s")
            time.sleep(POLL_S)
        latencies.append(time.perf_counter() - committed["clock"])
        stamp_latencies.append(current.timestamp() - committed["wall"])
        log(f"rating {n + 1}/{WORKER_RATINGS}: {latencies[-1] * 1000:.0f} ms")
        time.sleep(0.05)
finally:
    worker.terminate()
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()

print(
    json.dumps(
        {
            "bench": "freshness",
            "dataset": folder.name,
            "in_process": {
                "profiles": IN_PROCESS_PROFILES,
                "refresh_ms": percentiles(whole, 1000),
                "engine_fold_in_ms": percentiles(engine, 1000),
                "read_signals_ms": percentiles(histories_ms, 1000),
                "target_fold_in_p95_ms": TARGET_FOLD_IN_MS,
            },
            "worker": {
                "ratings": WORKER_RATINGS,
                "broker": BROKER,
                "pool": "solo, concurrency 1",
                "commit_to_candidates_ms": percentiles(latencies, 1000),
                "commit_to_updated_at_ms": percentiles(stamp_latencies, 1000),
                "poll_ms": POLL_S * 1000,
                "target_p95_ms": TARGET_P95_S * 1000,
            },
            "peak_rss_mb": round(
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
            ),
            "loadavg_1m_at_end": round(os.getloadavg()[0], 2),
        }
    )
)
