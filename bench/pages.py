"""Page speed: gunicorn (2 workers) serving ml-latest-small from PostgreSQL.

A second process (this one, 8 threads with keep-alive connections) loads the
home (anonymous, and logged in as a MovieLens viewer with a trained model:
the personalized rows), a title page and search for 20 s each and prints one
JSON line with requests per second, p50 and p99 per page. Targets on a 2-core
machine: the logged-in home at least 300 requests/s, p50 at most 25 ms and
p99 at most 60 ms; the title page at least 300 requests/s with p99 at most
60 ms; search p99 at most 100 ms.
"""

import http.client
import json
import os
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
    session_cookie,
)

SECONDS = float(os.environ.get("BENCH_SECONDS", 20))
CONCURRENCY = 8
PORT = int(os.environ.get("BENCH_PORT", 8199))

# The session this process signs must verify in gunicorn: one key for both.
SECRET_KEY = "bench-only-secret-key-not-for-production-use-0123456789"
os.environ["SECRET_KEY"] = SECRET_KEY
fresh_django("marquee_bench_pages")

from django.conf import settings  # noqa: E402
from django.db.models import Count  # noqa: E402

from accounts.models import Profile  # noqa: E402
from catalog.models import Title  # noqa: E402
from catalog.services import movielens_import  # noqa: E402
from config.celery import app as celery_app  # noqa: E402
from recommendations.services import training  # noqa: E402

log("importing ml-latest-small")
movielens_import(folder=Path(settings.MOVIELENS_DIR) / "ml-latest-small")
log("training the model (Celery eager: candidates for every profile)")
celery_app.conf.task_always_eager = True
training.model_train()
celery_app.conf.task_always_eager = False
title = Title.objects.annotate(n=Count("ratings")).order_by("-n").first()


def typical_viewer_cookie() -> str:
    """A logged-in session of a typical MovieLens viewer (median ratings count)."""
    profiles = list(Profile.objects.annotate(n=Count("ratings")).order_by("n", "id"))
    profile = profiles[len(profiles) // 2]
    user = profile.user
    user.set_password("bench-password")
    user.save()
    log(f"logged in as profile {profile.pk} with {profile.n} ratings")
    return session_cookie(profile)


COOKIE = typical_viewer_cookie()
PAGES = {
    "home": ("/", ""),
    "home_logged_in": ("/", COOKIE),
    "title": (f"/titles/{title.pk}/", ""),
    "search": ("/search/?q=star+wars", ""),
}

env = server_env(SECRET_KEY)
server = subprocess.Popen(gunicorn_command(PORT), cwd=ROOT, env=env)


def get(conn: http.client.HTTPConnection, path: str, cookie: str = "", body=False):
    """The status (and, with ``body``, the content) of one GET."""
    headers = {"Host": "127.0.0.1"}
    if cookie:
        headers["Cookie"] = cookie
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    content = response.read()
    return (response.status, content) if body else response.status


def wait_until_up() -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if (
                get(http.client.HTTPConnection("127.0.0.1", PORT, timeout=2), "/")
                == 200
            ):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not come up")


def load(path: str, cookie: str) -> dict:
    latencies: list[float] = []
    errors = [0]
    stop = time.monotonic() + SECONDS
    lock = threading.Lock()

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
        mine = []
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                status = get(conn, path, cookie)
            except (OSError, http.client.HTTPException):
                conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
                status = 0
            mine.append(time.perf_counter() - started)
            if status != 200:
                errors[0] += 1
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(CONCURRENCY)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - began
    latencies.sort()

    return {
        "requests": len(latencies),
        "errors": errors[0],
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": percentile_ms(latencies, 0.50),
        "p99_ms": percentile_ms(latencies, 0.99),
    }


try:
    wait_until_up()
    results = {}
    for name, (path, cookie) in PAGES.items():
        log(f"loading {name} ({path}) for {SECONDS:.0f} s")
        for _ in range(4):  # warm both workers' caches
            status, body = get(
                http.client.HTTPConnection("127.0.0.1", PORT), path, cookie, body=True
            )
            if status != 200:
                raise SystemExit(f"{name}: {path} answered {status}")
            if cookie and b"Top picks for" not in body:
                raise SystemExit(f"{name}: the page is not the personalized home")
        results[name] = load(path, cookie)
finally:
    server.terminate()
    server.wait(timeout=15)

print(
    json.dumps(
        {
            "bench": "pages",
            "dataset": "ml-latest-small",
            "server": "gunicorn, 2 workers",
            "concurrency": CONCURRENCY,
            "seconds_per_page": SECONDS,
            "pages": results,
            "targets": {
                "home_logged_in": {"requests_per_s": 300, "p50_ms": 25, "p99_ms": 60},
                "title": {"requests_per_s": 300, "p99_ms": 60},
                "search": {"p99_ms": 100},
            },
            "loadavg_1m_at_end": round(os.getloadavg()[0], 2),
        }
    )
)
