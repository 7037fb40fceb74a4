"""``manage.py check`` refuses a per-process cache once DEBUG is off, and
``check --deploy`` is clean, warnings included, with production settings."""

import os
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import SystemCheckError

LOCMEM = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
DUMMY = {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
REDIS = {
    "BACKEND": "config.cache.DegradingRedisCache",
    "LOCATION": "redis://127.0.0.1:6379/1",
}


@pytest.mark.parametrize(
    "cache, backend", [(LOCMEM, "LocMemCache"), (DUMMY, "DummyCache")]
)
def test_check_deploy_refuses_a_cache_kept_in_each_process(settings, cache, backend):
    settings.DEBUG = False
    settings.CACHES = {"default": cache}

    with pytest.raises(SystemCheckError) as refused:
        call_command("check", "--deploy")

    message = str(refused.value)
    assert "(config.E001) The cache 'default' is " + backend in message
    assert "sessions" in message
    assert "CACHE_URL=redis://" in message


def test_sessions_only_in_a_per_process_cache_are_refused(settings):
    settings.DEBUG = False
    settings.CACHES = {"default": REDIS, "sessions": LOCMEM}
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cache"
    settings.SESSION_CACHE_ALIAS = "sessions"

    with pytest.raises(SystemCheckError) as refused:
        call_command("check", "--deploy")

    message = str(refused.value)
    assert "(config.E002) The cache 'sessions' is LocMemCache" in message
    assert "config.E001" not in message


def test_check_deploy_passes_with_redis_as_the_cache(settings, monkeypatch):
    # Set for the whole session by the browser tests; refused by --deploy.
    monkeypatch.delenv("DJANGO_ALLOW_ASYNC_UNSAFE", raising=False)
    settings.DEBUG = False
    settings.CACHES = {"default": REDIS}

    call_command("check", "--deploy")


def test_a_laptop_with_debug_on_may_keep_the_cache_in_memory(settings):
    settings.DEBUG = True
    settings.CACHES = {"default": LOCMEM}

    call_command("check")


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    """``manage.py`` as an operator runs it, with DEBUG off and ``env`` (and
    without what the test session set for itself: the browser tests' async
    switch is refused by ``check --deploy``)."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("CACHE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    environment |= {
        "DEBUG": "false",
        "SECRET_KEY": "a-long-random-secret-for-this-test-only-0123456789-abcdefgh",
        "ALLOWED_HOSTS": "marquee.example.org",
        **env,
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=django_settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_manage_check_with_debug_off_names_cache_url_until_it_is_set():
    for command in (["check"], ["check", "--deploy"]):
        refused = manage(*command)
        assert refused.returncode == 1, refused.stderr
        assert "config.E001" in refused.stderr
        assert "CACHE_URL" in refused.stderr

    accepted = manage("check", "--deploy", CACHE_URL="redis://127.0.0.1:6379/1")
    assert accepted.returncode == 0, accepted.stderr
    assert "config.E0" not in accepted.stderr + accepted.stdout


def test_check_deploy_is_clean_at_warning_level_with_production_settings():
    """Nothing left for an operator to wave through: no warning either (the
    API's schema included: drf-spectacular warns of views it cannot read)."""
    checked = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        CACHE_URL="redis://127.0.0.1:6379/1",
    )

    assert checked.returncode == 0, checked.stderr
    assert "System check identified no issues (0 silenced)." in checked.stdout
