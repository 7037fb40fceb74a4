"""Gives every test run its own var dir, before Django settings are imported.

``config/settings.py`` reads ``MARQUEE_VAR_DIR`` at import time (the SQLite
test database, the filesystem Celery broker, results and media all live under
it), and pytest-django imports the settings in ``pytest_load_initial_conftests``,
before any conftest is loaded, so a ``pytest_configure`` hook here would run
too late. pyproject.toml therefore loads this file early as a plugin
(``pythonpath = ["."]`` and ``-p conftest`` in ``addopts``); pytest then meets
it again as the root conftest, which registers the same module a second time.
Keep it to this module-level code: no hooks and no fixtures (they would run
twice). Fixtures belong in ``tests/conftest.py``.

- ``MARQUEE_VAR_DIR`` set by the caller (``.ci/run`` does) is used as it is.
- Otherwise the run gets a fresh temporary directory, removed at exit, so the
  messages ``make run`` left in ``var/celery/broker`` never reach a test worker
  and tests never write into ``var/``. Each pytest-xdist worker gets its own
  subdirectory (``<dir>/gw0``...), hence its own broker folders.
"""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

_SESSION_DIR = "MARQUEE_TEST_SESSION_DIR"  # inherited by xdist workers

if _SESSION_DIR not in os.environ and "MARQUEE_VAR_DIR" not in os.environ:
    os.environ[_SESSION_DIR] = tempfile.mkdtemp(prefix="marquee-tests-")
    atexit.register(shutil.rmtree, os.environ[_SESSION_DIR], ignore_errors=True)

if _SESSION_DIR in os.environ:
    _xdist_worker = os.environ.get("PYTEST_XDIST_WORKER")
    os.environ["MARQUEE_VAR_DIR"] = str(
        Path(os.environ[_SESSION_DIR], _xdist_worker or "")
    )
