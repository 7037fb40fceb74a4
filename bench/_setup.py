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
