"""The cache's Redis away: the site is slower, never broken.

Each test runs its own redis-server on a spare port as the site's cache (the
backend ``CACHE_URL=redis://...`` selects) and takes it away for real: shut
down (connections refused) or frozen with SIGSTOP (connections hang until a
timeout), then brought back.
"""

import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Profile
from activity.models import Rating
from catalog.models import Title
from tests.conftest import RedisServer, free_port, need_service
from tests.factories import ACCOUNT_PASSWORD, ProfileFactory

pytestmark = [pytest.mark.services, pytest.mark.django_db]

HTMX = {"HX-Request": "true"}
#: Seconds between tries once Redis is found away; short, so that the tests
#: that bring it back do not wait long.
RETRY_AFTER = 1.0
#: What a viewer waits for a page at most while the cache is away.
PAGE_SECONDS = 1.0


@pytest.fixture
def redis_server(tmp_path) -> Iterator[RedisServer]:
    need_service(shutil.which("redis-server") is not None, "needs redis-server")
    server = RedisServer(port=free_port(), workdir=tmp_path)
    server.start()
    yield server
    if server.process.poll() is None:
        server.stop()


@pytest.fixture
def redis_cache(settings, redis_server) -> RedisServer:
    """The site's cache (and so its sessions) on this test's redis-server."""
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.DegradingRedisCache",
            "LOCATION": redis_server.url,
            "OPTIONS": {"retry_after": RETRY_AFTER},
        }
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return redis_server


def viewer_of(trained) -> Profile:
    """A demo viewer with stored candidates, who logs in with ACCOUNT_PASSWORD."""
    profile = (
        Profile.objects.filter(is_kids=False, candidates__isnull=False)
        .order_by("id")
        .first()
    )
    profile.user.set_password(ACCOUNT_PASSWORD)
    profile.user.save()
    return profile


def log_in(client: Client, profile: Profile) -> None:
    response = client.post(
        reverse("accounts:login"),
        {"username": profile.user.email, "password": ACCOUNT_PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:profile_picker")


def choose(client: Client, profile: Profile) -> None:
    response = client.post(reverse("accounts:profile_choose", args=[profile.pk]))
    assert response.status_code == 302


def home(client: Client) -> str:
    response = client.get(reverse("recommendations:home"))
    assert response.status_code == 200
    return response.content.decode()


def timed(request, *args, **kwargs):
    started = time.monotonic()
    response = request(*args, **kwargs)
    return response, time.monotonic() - started


def test_with_the_cache_stopped_a_viewer_logs_in_browses_and_rates(
    redis_cache, trained, client, caplog
):
    profile = viewer_of(trained)
    title = Title.objects.exclude(ratings__profile=profile).order_by("id").first()
    # Before the outage another viewer's home fills the cache (and this
    # process's connections to it); this viewer's rows were never cached.
    someone = Client()
    someone.force_login(ProfileFactory().user)
    assert someone.get(reverse("recommendations:home")).status_code in (200, 302)
    assert redis_cache.client().dbsize() > 0

    redis_cache.stop()

    assert client.get(reverse("accounts:login")).status_code == 200
    log_in(client, profile)
    assert client.get(reverse("accounts:profile_picker")).status_code == 200
    choose(client, profile)
    assert f"Top picks for {profile.name}" in home(client)
    assert client.get(reverse("catalog:title", args=[title.pk])).status_code == 200
    rated = client.post(
        reverse("activity:rate", args=[title.pk]), {"value": "4.5"}, headers=HTMX
    )
    assert rated.status_code == 200
    assert Rating.objects.get(profile=profile, title=title).value == 4.5
    # The outage is logged once, without a traceback.
    logged = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [(r.name, r.levelname) for r in logged] == [("config.cache", "WARNING")]
    assert "Cache unavailable: Redis at " + redis_cache.url in logged[0].message
    assert logged[0].exc_info is None


def test_while_the_cache_is_away_pages_do_not_rebuild_the_catalog_snapshot(
    redis_cache, trained, monkeypatch
):
    """The snapshot of every title (the rows' facts) costs a few queries over
    the whole catalog: built once per page while Redis is away, it made every
    page of the outage several times slower."""
    from recommendations.home import snapshot

    viewers = list(
        Profile.objects.filter(is_kids=False, candidates__isnull=False).order_by("id")[
            :3
        ]
    )
    clients = {}
    for viewer in viewers:
        viewer.user.set_password(ACCOUNT_PASSWORD)
        viewer.user.save()
        clients[viewer] = Client()
        log_in(clients[viewer], viewer)
        choose(clients[viewer], viewer)
    home(clients[viewers[0]])
    builds = []
    build = snapshot._build_snapshot
    monkeypatch.setattr(
        snapshot, "_build_snapshot", lambda: builds.append(1) or build()
    )

    redis_cache.stop()
    for viewer, viewer_client in clients.items():
        assert f"Top picks for {viewer.name}" in home(viewer_client)

    assert builds == []


def test_while_the_cache_hangs_a_page_waits_for_it_once_at_most(
    redis_cache, trained, client
):
    profile = viewer_of(trained)
    log_in(client, profile)
    choose(client, profile)
    home(client)

    redis_cache.freeze()

    for _ in range(3):
        response, seconds = timed(client.get, reverse("recommendations:home"))
        assert response.status_code == 200
        assert seconds < PAGE_SECONDS
        response, seconds = timed(client.get, reverse("accounts:profile_picker"))
        assert response.status_code == 200
        assert seconds < PAGE_SECONDS


def test_when_the_cache_returns_the_pages_use_it_again(redis_cache, trained, client):
    profile = viewer_of(trained)
    log_in(client, profile)
    choose(client, profile)
    redis_cache.stop()
    home(client)

    redis_cache.start()
    time.sleep(RETRY_AFTER)

    with CaptureQueriesContext(connection) as building:
        home(client)
    with CaptureQueriesContext(connection) as cached:
        home(client)
    assert len(cached) < len(building)
    assert redis_cache.client().dbsize() > 0


def test_a_profile_chosen_while_the_cache_hung_stays_chosen_when_it_returns(
    redis_cache, trained, client
):
    first = viewer_of(trained)
    second = ProfileFactory(user=first.user, name="Second")
    log_in(client, first)
    choose(client, first)
    assert f"Top picks for {first.name}" in home(client)  # session now in Redis

    redis_cache.freeze()
    choose(client, second)
    redis_cache.resume()
    time.sleep(RETRY_AFTER)

    page = home(client)
    assert f"Top picks for {first.name}" not in page
    assert "Second" in page


def test_a_log_out_while_the_cache_hung_holds_when_it_returns(
    redis_cache, trained, client, settings
):
    profile = viewer_of(trained)
    log_in(client, profile)
    choose(client, profile)
    home(client)  # the session is in Redis
    session_key = client.cookies[settings.SESSION_COOKIE_NAME].value

    redis_cache.freeze()
    assert client.post(reverse("accounts:logout")).status_code == 302
    redis_cache.resume()
    time.sleep(RETRY_AFTER)

    # Someone holding the old session cookie is not logged in.
    client.cookies[settings.SESSION_COOKIE_NAME] = session_key
    response = client.get(reverse("accounts:profile_picker"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_cache_url_selects_the_cache_that_degrades(redis_server):
    redis_server.stop()
    environment = {**os.environ, "CACHE_URL": redis_server.url}
    script = "from django.core.cache import cache; print(cache.get_or_set('n', 42))"

    ran = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v0", "-c", script],
        cwd=django_settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.split() == ["42"]
    assert ran.stderr.count("Cache unavailable: Redis at " + redis_server.url) == 1
