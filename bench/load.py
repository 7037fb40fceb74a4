"""Load: 50 logged-in viewers for 60 s, then the same with Redis away for 20 s.

The stack runs on this machine, started and stopped here: gunicorn (2
workers) on a fresh PostgreSQL database holding ml-latest-small and a trained
model; this benchmark's own redis-server on a spare port (Celery broker on db
0, Django's cache on db 1); one Celery worker (queues default and training,
concurrency 1); and Celery beat when the beat schedule has an outbox relay
entry (the relay must run for work recorded during an outage to reach the
worker).

50 viewers, each a different MovieLens profile with its own logged-in
session and keep-alive connection, think 0.5 to 1.5 s between steps; each
step is one of

- home (40 %): ``/``;
- title (25 %): the title page and the two fragments it loads with htmx
  (its actions panel and "More like this");
- search (15 %): ``/search/?q=...``;
- rate (12 %): the title page's actions panel, then its rating form posted
  as htmx posts it (a title the profile has not rated, so each rating is new);
- play (8 %): the panel's Play form, the player, then heartbeats (with
  think time between them) up to the end of the title.

Each viewer opens the home page once before the clock starts (not counted).
Scenarios, each printing one JSON line (both by default; ``--steady`` or
``--outage`` runs one): ``steady``, and ``outage``, in which the
redis-server is shut down (``shutdown nosave``: queued messages are lost, as
in a crash) a third of the way in and restarted with the same command line
20 s later. Each scenario gets its own stack; the database carries over.
``BENCH_SECONDS`` shortens the runs (the outage stays the middle third).

Figures: requests per second, p50/p95/p99 overall and per request kind,
failures (a status outside 2xx/3xx, or no answer), ratings posted, saved
(found in the database afterwards with the posted value) and refreshed (the
profile's ``ProfileCandidates.updated_at`` later than the rating), waiting up
to 60 s after the run for the worker to catch up. Targets: 0 failures, p95 at
most 150 ms and p99 at most 400 ms (reported, not required, in the outage
scenario), every posted rating saved and refreshed. The database is dropped
at the end.
"""

import argparse
import contextlib
import html
import http.client
import io
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import (
    ROOT,
    fresh_django,
    gunicorn_command,
    log,
    server_env,
    session_cookie,
)

SECONDS = float(os.environ.get("BENCH_SECONDS", 60))
VIEWERS = 50
THINK_S = (0.5, 1.5)
MIX = {"home": 40, "title": 25, "search": 15, "rate": 12, "play": 8}
HEARTBEATS = (0.25, 0.5, 0.75, 1.0)
OUTAGE_S = SECONDS / 3  # stopped a third of the way in, for a third of the run
REFRESH_WAIT_S = 120.0
REQUEST_TIMEOUT_S = 30.0
TARGETS = {"failures": 0, "p95_ms": 150, "p99_ms": 400}
DATABASE = "marquee_bench_load"
REFRESH_TASK = "recommendations.tasks.refresh_profile"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


PORT = int(os.environ.get("BENCH_PORT", free_port()))
REDIS_PORT = free_port()
BROKER = f"redis://127.0.0.1:{REDIS_PORT}/0"
CACHE = f"redis://127.0.0.1:{REDIS_PORT}/1"
# The sessions this process signs must verify in gunicorn: one key for both.
SECRET_KEY = "bench-only-secret-key-not-for-production-use-0123456789"
os.environ["SECRET_KEY"] = SECRET_KEY
# This process sends the worker's warm-up task on the benchmark's broker; its
# own cache stays in memory (it writes sessions, which gunicorn then reads
# from the database), so it never depends on the redis-server it stops.
os.environ["CELERY_BROKER_URL"] = BROKER
os.environ.pop("CACHE_URL", None)
os.environ.pop("CELERY_TASK_ALWAYS_EAGER", None)


def on_sigterm(signum, frame):
    raise KeyboardInterrupt


# Stopped either way (Ctrl-C, even when started in the background, or
# SIGTERM), the finally clauses stop every process started here and drop the
# database.
signal.signal(signal.SIGINT, signal.default_int_handler)
signal.signal(signal.SIGTERM, on_sigterm)


@dataclass
class Setup:
    """What every scenario shares: the servers' environment and the viewers."""

    env: dict[str, str]
    sessions: list[tuple[int, str]]  # (profile id, its session cookie)
    titles: list[int]  # browsed, played and rated: the 2,000 most rated
    queries: list[str]
    unrated: dict[int, list[int]]  # per profile, titles it may rate (popped)
    warm_profile: int  # refreshed once per stack to warm the worker


# --- the stack -----------------------------------------------------------------------


class Child:
    """A process this benchmark started, in its own session, logging to a file.

    Its own session keeps a terminal's Ctrl-C away from it (the benchmark
    stops it in order), and lets the benchmark stop its children too
    (gunicorn's and Celery's workers) without touching anything else.
    """

    def __init__(self, name: str, argv: list[str], env: dict, logs: Path) -> None:
        self.name, self.argv, self.env = name, argv, env
        self.log_path = logs / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log_path.open("a") as out:
            self.process = subprocess.Popen(
                self.argv,
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 20) -> None:
        if self.process is None:
            return
        process, self.process = self.process, None
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10)):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                break
            try:
                process.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        # A pool child may outlive its parent by a moment.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


class RedisServer(Child):
    def __init__(self, env: dict, logs: Path) -> None:
        data = logs / "redis"
        data.mkdir(exist_ok=True)
        argv = [
            "redis-server",
            "--port",
            str(REDIS_PORT),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(data),
        ]
        super().__init__("redis", argv, env, logs)

    def start(self) -> None:
        super().start()
        import redis

        client = redis.Redis(port=REDIS_PORT, socket_connect_timeout=1)
        deadline = time.monotonic() + 15
        while True:
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                if time.monotonic() > deadline or not self.alive():
                    raise SystemExit(
                        f"redis-server did not start: {self.log_path}"
                    ) from None
                time.sleep(0.05)

    def shutdown(self) -> None:
        """As an operator (or a crash) would: nothing is saved."""
        subprocess.run(
            ["redis-cli", "-p", str(REDIS_PORT), "shutdown", "nosave"],
            capture_output=True,
            timeout=10,
        )
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


def relay_entries() -> list[str]:
    """The beat schedule's outbox relay entries, if the project has one."""
    from django.conf import settings

    return [
        name
        for name, entry in getattr(settings, "CELERY_BEAT_SCHEDULE", {}).items()
        if re.search(r"outbox|relay", f"{name} {entry.get('task', '')}")
    ]


class Stack:
    """redis-server, one Celery worker, beat if there is a relay, gunicorn."""

    def __init__(self, scenario: str, setup: Setup) -> None:
        env = setup.env
        self.warm_profile = setup.warm_profile
        self.logs = Path(env["MARQUEE_VAR_DIR"]) / "bench_load" / scenario
        self.logs.mkdir(parents=True, exist_ok=True)
        for old in self.logs.glob("*.log"):
            old.unlink()
        bin_ = ROOT / ".venv" / "bin"
        worker_env = {
            **env,
            # As the Procfile runs the worker: one BLAS thread per process.
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
        }
        self.redis = RedisServer(env, self.logs)
        self.worker = Child(
            "worker",
            [
                str(bin_ / "celery"),
                "-A",
                "config",
                "worker",
                "-Q",
                "default,training",
                "--concurrency",
                "1",
                "--loglevel",
                "INFO",
                "-n",
                f"bench-load-{scenario}@%h",
            ],
            worker_env,
            self.logs,
        )
        self.relays = relay_entries()
        self.beat = Child(
            "beat",
            [
                str(bin_ / "celery"),
                "-A",
                "config",
                "beat",
                "--loglevel",
                "INFO",
                "--pidfile",
                str(self.logs / "beat.pid"),
                "--schedule",
                str(self.logs / "beat-schedule"),
            ],
            env,
            self.logs,
        )
        self.web = Child("gunicorn", gunicorn_command(PORT), env, self.logs)
        self.children = [self.redis, self.worker, self.beat, self.web]

    def __enter__(self) -> "Stack":
        try:
            self.redis.start()
            self.worker.start()
            if self.relays:
                self.beat.start()
            self.web.start()
            wait_for_web(self.web)
            wait_for_worker(self.worker, self.warm_profile)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        for child in reversed(self.children):
            child.stop()

    def describe(self) -> dict:
        return {
            "web": "gunicorn, 2 sync workers",
            "worker": "celery worker -Q default,training --concurrency 1",
            "beat": f"celery beat ({', '.join(self.relays)})" if self.relays else None,
            "broker": BROKER,
            "cache": CACHE,
            "logs": str(self.logs.relative_to(ROOT)),
        }


def wait_for_web(web: Child) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and web.alive():
        try:
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=5)
            conn.request("GET", "/", headers={"Host": "127.0.0.1"})
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer / with 200: {web.log_path}")


def candidates_stamp(profile_id: int):
    from recommendations.models import ProfileCandidates

    return (
        ProfileCandidates.objects.filter(profile_id=profile_id)
        .values_list("updated_at", flat=True)
        .first()
    )


def wait_for_worker(worker: Child, profile_id: int) -> None:
    """One refresh through the broker: the worker is up and its model loaded."""
    from config.celery import app

    before = candidates_stamp(profile_id)
    app.send_task(REFRESH_TASK, args=[profile_id])
    deadline = time.monotonic() + 180
    while candidates_stamp(profile_id) == before:
        if time.monotonic() > deadline or not worker.alive():
            raise SystemExit(f"the Celery worker did not refresh: {worker.log_path}")
        time.sleep(0.2)


# --- the viewers ---------------------------------------------------------------------


@dataclass
class Sample:
    kind: str
    at: float  # seconds since the run started
    ms: float
    status: int  # 0: no answer
    error: str = ""

    @property
    def failed(self) -> bool:
        return not 200 <= self.status < 400


@dataclass
class Posted:
    profile_id: int
    title_id: int
    value: float
    status: int


@dataclass
class Run:
    began: float = 0.0
    samples: list[Sample] = field(default_factory=list)
    ratings: list[Posted] = field(default_factory=list)
    steps: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)


RATING_FORM = re.compile(r'<form class="rating-form"[^>]*?\saction="([^"]+)"')
PLAY_FORM = re.compile(r'<form class="play-form"[^>]*?\saction="([^"]+)"')
HEARTBEAT_FORM = re.compile(r'<form class="player-heartbeat"[^>]*?\saction="([^"]+)"')
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
STAR_VALUES = re.compile(
    r'class="star-radio" type="radio" name="value" value="([^"]+)"'
)
RUNTIME = re.compile(r'data-runtime="(\d+)"')


class Viewer:
    """One logged-in profile: its cookies, its connection, its next step."""

    def __init__(
        self, n: int, profile_id: int, cookie: str, run: Run, setup: Setup
    ) -> None:
        self.profile_id = profile_id
        self.setup = setup
        self.rng = random.Random(1000 + n)
        name, _, value = cookie.partition("=")
        self.cookies = {name: value}
        self.run = run
        self.conn = self._connect()
        self.record = True

    @staticmethod
    def _connect() -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", PORT, timeout=REQUEST_TIMEOUT_S)

    def request(
        self,
        kind: str,
        method: str,
        path: str,
        form: dict | None = None,
        htmx: bool = False,
    ) -> tuple[int, str, str]:
        """Status, Location and body of one request, timed and recorded."""
        headers = {
            "Host": "127.0.0.1",
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
        }
        body = None
        if htmx:
            headers["HX-Request"] = "true"
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            if "csrftoken" in self.cookies:
                headers["X-CSRFToken"] = self.cookies["csrftoken"]
        started = time.perf_counter()
        status, location, text, error = 0, "", "", ""
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            content = response.read()
            status = response.status
            location = response.getheader("Location", "")
            for header in response.headers.get_all("Set-Cookie") or []:
                for morsel in SimpleCookie(header).values():
                    self.cookies[morsel.key] = morsel.value
            text = content.decode("utf-8", "replace")
        except (OSError, http.client.HTTPException) as exc:
            self.conn.close()
            self.conn = self._connect()
            error = f"{type(exc).__name__}: {exc}"
        elapsed = time.perf_counter() - started
        if self.record:
            sample = Sample(
                kind,
                round(started - self.run.began, 3),
                elapsed * 1000,
                status,
                error or ("" if 200 <= status < 400 else text[:200]),
            )
            with self.run.lock:
                self.run.samples.append(sample)
        return status, location, text

    def think(self) -> None:
        self.run.stop.wait(self.rng.uniform(*THINK_S))

    # Steps -------------------------------------------------------------------

    def home(self) -> None:
        self.request("home", "GET", "/")

    def title(self) -> None:
        pk = self.rng.choice(self.setup.titles)
        self.request("title", "GET", f"/titles/{pk}/")
        self.request("title_actions", "GET", f"/titles/{pk}/actions/", htmx=True)
        self.request(
            "more_like_this", "GET", f"/titles/{pk}/more-like-this/", htmx=True
        )

    def search(self) -> None:
        query = urlencode({"q": self.rng.choice(self.setup.queries)})
        self.request("search", "GET", f"/search/?{query}")

    def _panel(self, pk: int) -> str | None:
        status, _, text = self.request(
            "title_actions", "GET", f"/titles/{pk}/actions/", htmx=True
        )
        return text if status == 200 else None

    def rate(self) -> None:
        unrated = self.setup.unrated[self.profile_id]
        if not unrated:
            return self.title()
        pk = unrated.pop()
        panel = self._panel(pk)
        if panel is None:
            return
        action, token = RATING_FORM.search(panel), CSRF_INPUT.search(panel)
        stars = STAR_VALUES.findall(panel)
        if not (action and token and stars):
            raise SystemExit(f"no rating form on /titles/{pk}/actions/")
        value = float(self.rng.choice(stars))
        status, _, _ = self.request(
            "rate",
            "POST",
            html.unescape(action.group(1)),
            form={"csrfmiddlewaretoken": token.group(1), "value": f"{value:g}"},
            htmx=True,
        )
        with self.run.lock:
            self.run.ratings.append(Posted(self.profile_id, pk, value, status))

    def play(self) -> None:
        pk = self.rng.choice(self.setup.titles)
        panel = self._panel(pk)
        if panel is None:
            return
        action, token = PLAY_FORM.search(panel), CSRF_INPUT.search(panel)
        if not (action and token):
            raise SystemExit(f"no play form on /titles/{pk}/actions/")
        status, location, _ = self.request(
            "play_start",
            "POST",
            html.unescape(action.group(1)),
            form={"csrfmiddlewaretoken": token.group(1), "start": "beginning"},
        )
        if status != 302:
            return
        status, _, player = self.request(
            "player",
            "GET",
            urlunsplit(urlsplit(location)._replace(scheme="", netloc="")),
        )
        if status != 200:
            return
        heartbeat, token = HEARTBEAT_FORM.search(player), CSRF_INPUT.search(player)
        if not (heartbeat and token):
            raise SystemExit(f"no heartbeat form on {location}")
        runtime = int(RUNTIME.search(player).group(1))
        for progress in HEARTBEATS:
            self.think()
            self.request(
                "heartbeat",
                "POST",
                html.unescape(heartbeat.group(1)),
                form={
                    "csrfmiddlewaretoken": token.group(1),
                    "progress": f"{progress:.4f}",
                    "seconds": str(round(progress * runtime)),
                },
                htmx=True,
            )

    def steps(self, deadline: float) -> None:
        kinds, weights = list(MIX), list(MIX.values())
        while time.monotonic() < deadline and not self.run.stop.is_set():
            self.think()
            if time.monotonic() >= deadline:
                break
            step = self.rng.choices(kinds, weights)[0]
            getattr(self, step)()
            with self.run.lock:
                self.run.steps[step] = self.run.steps.get(step, 0) + 1


def drive(viewers: list[Viewer], run: Run, on_tick=None) -> float:
    """Runs every viewer for SECONDS; returns the wall time taken."""
    for viewer in viewers:  # warm-up, not counted: caches and the CSRF cookie
        viewer.record = False
        viewer.home()
        viewer.record = True
    run.began = time.perf_counter()
    deadline = time.monotonic() + SECONDS
    failures: list[BaseException] = []

    def body(viewer: Viewer) -> None:
        try:
            viewer.steps(deadline)
        except BaseException as exc:  # reported below, in the main thread
            failures.append(exc)
            run.stop.set()

    threads = [threading.Thread(target=body, args=(v,), daemon=True) for v in viewers]
    for thread in threads:
        thread.start()
    try:
        while any(t.is_alive() for t in threads):
            if on_tick:
                on_tick(time.perf_counter() - run.began)
            time.sleep(0.1)
    except BaseException:
        run.stop.set()
        raise
    if failures:
        raise failures[0]
    return time.perf_counter() - run.began


# --- figures -------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))], 1)


def summary(samples: list[Sample], seconds: float | None = None) -> dict:
    ms = [s.ms for s in samples]
    figures = {
        "requests": len(samples),
        "failures": sum(s.failed for s in samples),
        "p50_ms": pct(ms, 0.50),
        "p95_ms": pct(ms, 0.95),
        "p99_ms": pct(ms, 0.99),
        "max_ms": round(max(ms), 1) if ms else None,
    }
    if seconds:
        figures["requests_per_s"] = round(len(samples) / seconds, 1)
    return figures


def failure_examples(samples: list[Sample], limit: int = 5) -> list[dict]:
    seen, examples = set(), []
    for s in samples:
        if s.failed and (s.kind, s.status) not in seen:
            seen.add((s.kind, s.status))
            title = re.search(r"<title>(.*?)</title>", s.error, re.S)
            said = title.group(1) if title else s.error
            examples.append(
                {
                    "kind": s.kind,
                    "status": s.status,
                    "at_s": s.at,
                    "said": " ".join(said.split())[:120],
                }
            )
    return examples[:limit]


def ratings_outcome(posted: list[Posted]) -> dict:
    """Saved: in the database with the posted value. Refreshed: the profile's
    candidates written after the rating, waiting up to REFRESH_WAIT_S."""
    from activity.models import Rating
    from recommendations.models import ProfileCandidates

    profiles = {p.profile_id for p in posted}
    rows = {
        (r.profile_id, r.title_id): r
        for r in Rating.objects.filter(profile_id__in=profiles)
    }
    saved = [
        rows[(p.profile_id, p.title_id)]
        for p in posted
        if (p.profile_id, p.title_id) in rows
        and rows[(p.profile_id, p.title_id)].value == p.value
    ]
    started = time.monotonic()
    while True:
        stamps = dict(
            ProfileCandidates.objects.filter(profile_id__in=profiles).values_list(
                "profile_id", "updated_at"
            )
        )
        refreshed = sum(
            1
            for r in saved
            if stamps.get(r.profile_id) and stamps[r.profile_id] > r.updated_at
        )
        waited = time.monotonic() - started
        if refreshed == len(saved) or waited > REFRESH_WAIT_S:
            break
        time.sleep(0.5)
    return {
        "posted": len(posted),
        "answered_ok": sum(200 <= p.status < 400 for p in posted),
        "saved": len(saved),
        "refreshed": refreshed,
        "waited_for_refresh_s": round(waited, 1),
    }


def target(got, limit, required: bool = True) -> dict:
    return {
        "target": limit,
        "got": got,
        "pass": got is not None and got <= limit,
        "required": required,
    }


def scenario(name: str, setup: Setup) -> dict:
    log(f"{name}: starting the stack")
    run = Run()
    outage: dict = {}
    load_at_start = round(os.getloadavg()[0], 2)
    with Stack(name, setup) as stack:
        viewers = [
            Viewer(n, pid, cookie, run, setup)
            for n, (pid, cookie) in enumerate(setup.sessions)
        ]

        def on_tick(at: float) -> None:
            if name != "outage":
                return
            if "stopped_at_s" not in outage and at >= OUTAGE_S:
                log("outage: redis-server shutdown nosave")
                stack.redis.shutdown()
                outage["stopped_at_s"] = round(at, 1)
            elif (
                "restarted_at_s" not in outage
                and "stopped_at_s" in outage
                and at >= outage["stopped_at_s"] + OUTAGE_S
            ):
                stack.redis.start()
                outage["restarted_at_s"] = round(time.perf_counter() - run.began, 1)
                log("outage: redis-server restarted")

        log(f"{name}: {VIEWERS} viewers for {SECONDS:.0f} s")
        cpu_before = time.process_time()
        elapsed = drive(viewers, run, on_tick)
        driver_cpu = time.process_time() - cpu_before
        log(f"{name}: {len(run.samples)} requests; waiting for refreshes")
        ratings = ratings_outcome(run.ratings)
        log(f"{name}: ratings {ratings}")
        describe = stack.describe()
    samples = run.samples
    overall = summary(samples, elapsed)
    kinds = sorted({s.kind for s in samples})
    latency_required = name != "outage"
    result = {
        "bench": "load",
        "scenario": name,
        "ran_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "dataset": "ml-latest-small",
        "viewers": VIEWERS,
        "seconds": SECONDS,
        "think_s": list(THINK_S),
        "mix_percent": MIX,
        "stack": describe,
        "steps": run.steps,
        **overall,
        "kinds": {k: summary([s for s in samples if s.kind == k]) for k in kinds},
        "failure_examples": failure_examples(samples),
        "ratings": ratings,
    }
    if name == "outage":
        stop = outage.get("stopped_at_s", SECONDS)
        back = outage.get("restarted_at_s", SECONDS)
        # By when each request started: those in flight at the stop count before.
        outage["phases"] = {
            "before": summary([s for s in samples if s.at < stop]),
            "during": summary([s for s in samples if stop <= s.at < back]),
            "after": summary([s for s in samples if s.at >= back]),
        }
        result["outage"] = outage
    result["targets"] = {
        "failures": target(overall["failures"], TARGETS["failures"]),
        "p95_ms": target(overall["p95_ms"], TARGETS["p95_ms"], latency_required),
        "p99_ms": target(overall["p99_ms"], TARGETS["p99_ms"], latency_required),
        "ratings_saved": {
            "target": ratings["posted"],
            "got": ratings["saved"],
            "pass": ratings["saved"] == ratings["posted"],
            "required": True,
        },
        "ratings_refreshed": {
            "target": ratings["posted"],
            "got": ratings["refreshed"],
            "pass": ratings["refreshed"] == ratings["posted"],
            "required": True,
        },
    }
    result["pass"] = all(t["pass"] for t in result["targets"].values() if t["required"])
    # The driver shares the machine: its CPU share shows whether it, rather
    # than the site, set the pace.
    result["driver_cpu_percent"] = round(100 * driver_cpu / elapsed, 1)
    result["loadavg_1m_at_start"] = load_at_start
    result["loadavg_1m_at_end"] = round(os.getloadavg()[0], 2)
    return result


# --- set-up --------------------------------------------------------------------------


def prepare() -> Setup:
    """Imports, trains (Celery eager), logs the viewers in."""
    from django.conf import settings
    from django.core.management import call_command
    from django.db.models import Count

    from accounts.models import Profile
    from activity.models import Rating
    from catalog.models import Title
    from catalog.services import movielens_import
    from config.celery import app as celery_app

    log("importing ml-latest-small")
    movielens_import(folder=Path(settings.MOVIELENS_DIR) / "ml-latest-small")
    log("training the model (Celery eager: candidates for every profile)")
    celery_app.conf.task_always_eager = True
    try:
        call_command("train", json=True, verbosity=0, stdout=io.StringIO())
    finally:
        celery_app.conf.task_always_eager = False

    rng = random.Random(0)
    profiles = list(
        Profile.objects.filter(candidates__isnull=False)
        .select_related("user")
        .order_by("id")
    )
    chosen = rng.sample(profiles, VIEWERS + 1)
    warm_profile = chosen.pop().pk
    popular = list(
        Title.objects.annotate(n=Count("ratings"))
        .filter(n__gte=5)
        .order_by("-n", "id")
        .values_list("id", "title")[:2000]
    )
    titles = [pk for pk, _ in popular]
    words = {
        word.lower()
        for _, name in popular[:500]
        for word in re.findall(r"[A-Za-z]{4,}", name)
    }
    rated = set(
        Rating.objects.filter(profile_id__in=[p.pk for p in chosen]).values_list(
            "profile_id", "title_id"
        )
    )
    unrated = {}
    for p in chosen:
        unrated[p.pk] = [pk for pk in titles if (p.pk, pk) not in rated]
        rng.shuffle(unrated[p.pk])
    setup = Setup(
        env=server_env(SECRET_KEY, CACHE_URL=CACHE, CELERY_BROKER_URL=BROKER),
        sessions=[(p.pk, session_cookie(p)) for p in chosen],
        titles=titles,
        queries=sorted(words),
        unrated=unrated,
        warm_profile=warm_profile,
    )
    log(f"{len(setup.sessions)} viewers logged in; {len(titles)} titles to browse")
    return setup


def drop_database() -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    base = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"
    )
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    log(f"dropped database {DATABASE}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--steady", action="store_true", help="only the steady run")
    which.add_argument("--outage", action="store_true", help="only the outage run")
    args = parser.parse_args()
    scenarios = (
        ["steady"]
        if args.steady
        else ["outage"]
        if args.outage
        else ["steady", "outage"]
    )
    try:
        fresh_django(DATABASE)
        setup = prepare()
        for name in scenarios:
            print(json.dumps(scenario(name, setup)), flush=True)
    finally:
        drop_database()


if __name__ == "__main__":
    main()
