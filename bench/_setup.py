"""Shared set-up for benchmarks: a fresh database, then Django.

Benchmarks run against PostgreSQL (``BENCH_DATABASE_URL``, default the local
server) in a database they create anew, never against the site's own data.
"""

import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
_STARTED = time.perf_counter()


def log(message: str) -> None:
    """Progress goes to stderr; stdout is kept for the one JSON line."""
    print(f"[{time.perf_counter() - _STARTED:7.1f}s] {message}", file=sys.stderr)


def fresh_django(name: str) -> None:
    """Points Django at a new, empty, migrated database called ``name``."""
    import psycopg

    base = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"
    )
    parts = urlsplit(base)
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("MARQUEE_VAR_DIR", str(ROOT / "var" / "bench"))
    sys.path.insert(0, str(ROOT))

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def session_cookie(profile) -> str:
    """The ``Cookie`` of a logged-in session of ``profile``'s account with the
    profile active, as log-in and "Who's watching?" leave it.

    The server verifies it only if it runs with this process's ``SECRET_KEY``;
    it reads the session from the database (the cache may be another one).
    """
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from accounts.access import ACTIVE_PROFILE_SESSION_KEY

    user = profile.user
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session[ACTIVE_PROFILE_SESSION_KEY] = profile.pk
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def server_env(secret_key: str, **extra: str) -> dict[str, str]:
    """The environment of a production-like server on plain HTTP (DEBUG off,
    loopback hosts), with the static files it serves collected."""
    import subprocess

    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": secret_key,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "STATIC_ROOT": str(Path(os.environ["MARQUEE_VAR_DIR"]) / "bench-static"),
        **extra,
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    return env


def gunicorn_command(port: int) -> list[str]:
    """How the benchmarks serve the site: gunicorn, 2 sync workers (or
    ``BENCH_WEB_WORKERS``), loopback."""
    return [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "config.wsgi",
        "-w",
        os.environ.get("BENCH_WEB_WORKERS", "2"),
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
    ]


def percentile_ms(seconds: list[float], q: float) -> float:
    """The ``q`` quantile of sorted latencies in seconds, in milliseconds."""
    return round(1000 * seconds[min(len(seconds) - 1, int(q * len(seconds)))], 1)
