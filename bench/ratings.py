"""Capacity: ratings per second the site takes, and refreshes per second a worker does.

Imports ml-latest-small into a fresh PostgreSQL database and trains once
(Celery eager). Then, against gunicorn (2 sync workers, ``BENCH_WEB_WORKERS``)
and one Celery worker (queue ``default``, one process) on the machine's Redis
(``BENCH_REDIS_URL``, default db 12, flushed first):

(a) ratings: 8 threads with keep-alive connections post new ratings through
    the API (``POST /api/v1/profiles/{id}/ratings/`` with each profile's own
    token, round-robin over every profile; the per-profile write throttle is
    lifted: this measures the site, not the limit) for ``BENCH_SECONDS``
    (20 s); every rating is saved and marks its profile for a refresh;
(b) refreshes: once the worker has caught up, a refresh of every profile is
    queued at once and the time until every profile's candidates are
    rewritten gives refreshes per second of one worker process.

Prints one JSON line. No target: the figures feed the capacity plan in the
README (how many web and worker processes for a given rate of ratings).
"""

import http.client
import json
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import (
    ROOT,
    fresh_django,
    gunicorn_command,
    log,
    percentile_ms,
    server_env,
)

SECONDS = float(os.environ.get("BENCH_SECONDS", 20))
CONCURRENCY = 8
PORT = int(os.environ.get("BENCH_PORT", 8198))
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
SECRET_KEY = "bench-only-secret-key-not-for-production-use-0123456789"
os.environ.update(
    SECRET_KEY=SECRET_KEY,
    CELERY_BROKER_URL=REDIS_URL,
    CELERY_RESULT_BACKEND=REDIS_URL,
    CACHE_URL=REDIS_URL,
)
fresh_django("marquee_bench_ratings")

from django.conf import settings  # noqa: E402
from django.db.models import F, OuterRef, Subquery  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import AccessToken, Profile  # noqa: E402
from accounts.services import token_create  # noqa: E402
from activity.models import Rating  # noqa: E402
from catalog.models import Title  # noqa: E402
from catalog.services import movielens_import  # noqa: E402
from config.celery import app as celery_app  # noqa: E402
from recommendations.models import ProfileCandidates  # noqa: E402
from recommendations.services import training  # noqa: E402
from recommendations.tasks import refresh_profile  # noqa: E402

subprocess.run(
    ["redis-cli", "-u", REDIS_URL, "flushdb"], check=True, capture_output=True
)
log("importing ml-latest-small")
movielens_import(folder=Path(settings.MOVIELENS_DIR) / "ml-latest-small")
log("training the model (Celery eager: candidates for every profile)")
celery_app.conf.task_always_eager = True
training.model_train()
celery_app.conf.task_always_eager = False

profiles = list(Profile.objects.select_related("user").order_by("id"))
titles = list(Title.objects.values_list("id", flat=True))
rng = random.Random(0)
WORK = []  # (profile id, token, titles it has not rated, shuffled)
for profile in profiles:
    _, secret = token_create(
        user=profile.user,
        name="bench",
        scope=AccessToken.Scope.READ_WRITE,
        profile=profile,
    )
    rated = set(profile.ratings.values_list("title_id", flat=True))
    unrated = [t for t in titles if t not in rated]
    rng.shuffle(unrated)
    WORK.append((profile.pk, secret, unrated))

env = server_env(SECRET_KEY, THROTTLE_PROFILE_WRITES="1000000/min")
worker_env = {**env, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
logs = Path(os.environ["MARQUEE_VAR_DIR"]) / "bench-ratings-worker.log"
server_log = logs.with_name("bench-ratings-web.log")
server = subprocess.Popen(
    gunicorn_command(PORT),
    cwd=ROOT,
    env=env,
    stdout=server_log.open("w"),
    stderr=subprocess.STDOUT,
)
worker = subprocess.Popen(
    [
        str(ROOT / ".venv" / "bin" / "celery"),
        "-A",
        "config",
        "worker",
        "--queues",
        "default",
        "--concurrency",
        "1",
        "--loglevel",
        "WARNING",
    ],
    cwd=ROOT,
    env=worker_env,
    stdout=logs.open("w"),
    stderr=subprocess.STDOUT,
)


def wait_until_up() -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
            conn.request("GET", "/healthz", headers={"Host": "127.0.0.1"})
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not come up")


def post_ratings() -> dict:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    stop = time.monotonic() + SECONDS

    def run(mine: list) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
        seen, counts, step = [], {}, 0
        while time.monotonic() < stop:
            profile_id, secret, unrated = mine[step % len(mine)]
            title_id = unrated[step // len(mine)]
            step += 1
            body = json.dumps({"title": title_id, "value": rng.choice([3.0, 4.5])})
            started = time.perf_counter()
            try:
                conn.request(
                    "POST",
                    f"/api/v1/profiles/{profile_id}/ratings/",
                    body=body,
                    headers={
                        "Host": "127.0.0.1",
                        "Authorization": f"Bearer {secret}",
                        "Content-Type": "application/json",
                    },
                )
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
                status = 0
            seen.append(time.perf_counter() - started)
            counts[status] = counts.get(status, 0) + 1
        with lock:
            latencies.extend(seen)
            for status, n in counts.items():
                statuses[status] = statuses.get(status, 0) + n

    threads = [
        threading.Thread(target=run, args=(WORK[i::CONCURRENCY],))
        for i in range(CONCURRENCY)
    ]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    latencies.sort()

    return {
        "ratings_per_s": round(statuses.get(201, 0) / elapsed, 1),
        "p50_ms": percentile_ms(latencies, 0.5),
        "p99_ms": percentile_ms(latencies, 0.99),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
    }


def stale_profiles(since, profile_ids: list[int]) -> int:
    """How many of the profiles lack candidates rewritten after ``since`` and
    after their own latest rating."""
    latest = (
        Rating.objects.filter(profile=OuterRef("profile"))
        .order_by("-updated_at")
        .values("updated_at")[:1]
    )
    fresh = (
        ProfileCandidates.objects.filter(
            profile_id__in=profile_ids, updated_at__gt=since
        )
        .annotate(latest=Subquery(latest))
        .filter(updated_at__gt=F("latest"))
    )
    return len(profile_ids) - fresh.count()


def wait_for_refreshes(since, profile_ids: list[int], timeout: float = 600) -> float:
    """Seconds until every one of the profiles has fresh candidates."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        if stale_profiles(since, profile_ids) == 0:
            return time.monotonic() - began
        time.sleep(0.05)
    raise SystemExit(f"refreshes not done within {timeout} s; see {logs}")


try:
    wait_until_up()
    began = timezone.now()
    log(f"posting ratings for {SECONDS:.0f} s")
    ratings = post_ratings()
    log(f"{ratings}; waiting for the worker to catch up")
    rated = list(
        Rating.objects.filter(updated_at__gte=began)
        .values_list("profile_id", flat=True)
        .distinct()
    )
    catch_up = wait_for_refreshes(began, rated)
    log(f"{len(rated)} profiles caught up {catch_up:.1f} s after the last rating")

    since = timezone.now()
    ids = [p.pk for p in profiles]
    for profile_id in ids:
        refresh_profile.delay(profile_id)
    drained = wait_for_refreshes(since, ids)
    print(
        json.dumps(
            {
                "bench": "ratings",
                "profiles": len(ids),
                "seconds": SECONDS,
                "web_workers": int(os.environ.get("BENCH_WEB_WORKERS", "2")),
                **ratings,
                "worker_catch_up_s": round(catch_up, 1),
                "refreshes_per_s_per_worker_process": round(len(ids) / drained, 1),
                "refresh_ms_mean": round(1000 * drained / len(ids), 1),
            }
        )
    )
finally:
    for process in (server, worker):
        process.terminate()
    for process in (server, worker):
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
