"""The privacy centre in a real browser, with a real Celery worker.

Pause viewing history and play a title: nothing is kept. Download my data:
the export is built by the worker while the page polls, then downloaded and
opened. Erase the account: the receipt shows, and the e-mail and password
no longer log in.
"""

import json
import re
import shutil
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.contrib.sessions.models import Session
from playwright.sync_api import expect

from accounts.models import Profile, User
from activity.models import Rating, ViewingEvent
from config.celery import app as celery_app
from privacy.models import ConsentEvent, DataExport, ErasureReceipt
from tests.factories import GenreFactory, TitleFactory

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

EMAIL = "robin@example.com"
PASSWORD = "a-quiet-night-in-with-films"
EXPORT_BUILT_WITHIN_MS = 60_000  # a first task on a cold worker imports a lot
NOT_KEPT = "Not kept: history paused, so this play is not saved."


def wait_until(condition, message: str, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, message
        time.sleep(0.05)


@contextmanager
def worker_off_queue(worker, queue: str) -> Iterator[None]:
    """The worker stops taking tasks from ``queue`` until the block ends."""
    destination = [worker.hostname]
    replies = celery_app.control.cancel_consumer(
        queue, destination=destination, reply=True, timeout=5
    )
    assert replies, f"the worker did not answer:\n{worker.log_tail()}"
    try:
        yield
    finally:
        replies = celery_app.control.add_consumer(
            queue, destination=destination, reply=True, timeout=5
        )
        assert replies, f"the worker did not answer:\n{worker.log_tail()}"


def screenshot(page, tmp_path: Path, name: str) -> None:
    """Full-page screenshot into the test's folder, copied to /tmp for a look."""
    path = tmp_path / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    shutil.copyfile(path, f"/tmp/h6-{name}.png")


def logged_in_user_ids(page) -> list[str]:
    """The account ids of the browser's Django sessions (none: logged out)."""
    keys = [c["value"] for c in page.context.cookies() if c["name"] == "sessionid"]
    return [
        str(session.get_decoded().get("_auth_user_id"))
        for session in Session.objects.filter(session_key__in=keys)
        if session.get_decoded().get("_auth_user_id")
    ]


def test_pause_history_play_export_and_erase_the_account(
    page, live_server, celery_worker, tmp_path
):
    drama = GenreFactory(name="Drama")
    rated = TitleFactory(title="Heat", year=1995, runtime_minutes=20, genres=[drama])
    played = TitleFactory(title="Ronin", year=1998, runtime_minutes=20, genres=[drama])

    # Sign up, then choose the profile on the picker.
    page.goto("/accounts/signup/")
    page.get_by_label("Your name").fill("Robin")
    page.get_by_label("E-mail address").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page).to_have_url(re.compile(r"/welcome/"))
    user = User.objects.get(email=EMAIL)
    profile = Profile.objects.get(user=user)
    page.goto("/profiles/")
    page.get_by_role("button", name=profile.name).click()
    expect(page).to_have_url(re.compile(r"/(welcome/)?$"))

    # One rating, so the export has something of this account's to carry.
    page.goto(f"/titles/{rated.pk}/")
    page.locator("label", has_text="4 stars").first.click()
    expect(page.get_by_text("Your rating: 4")).to_be_visible()
    assert list(
        Rating.objects.filter(profile=profile).values_list("value", flat=True)
    ) == [4.0]

    # Pause viewing history in the privacy centre.
    page.goto("/privacy/")
    pause = page.get_by_role("switch", name="Pause viewing history")
    expect(pause).to_have_attribute("aria-checked", "false")
    pause.click()
    expect(page.get_by_role("switch", name="Pause viewing history")).to_have_attribute(
        "aria-checked", "true"
    )
    expect(
        page.get_by_text(f"{profile.name}: Pause viewing history is on.")
    ).to_be_visible()
    profile.privacy.refresh_from_db()
    assert profile.privacy.pause_viewing_history is True
    assert list(
        ConsentEvent.objects.filter(user=user)
        .exclude(what__startswith="receipt: ")  # tests/privacy/test_receipts.py
        .values_list("kind", "profile_name", "what", "old_value", "new_value")
    ) == [("setting", profile.name, "pause_viewing_history", "off", "on")]
    screenshot(page, tmp_path, "centre")

    # Play a title to the end: it plays, says it is not kept, and keeps nothing.
    page.goto(f"/titles/{played.pk}/")
    page.get_by_role("button", name="Play").first.click()
    expect(page).to_have_url(
        re.compile(rf"/titles/{played.pk}/play/\?unkept=beginning$")
    )
    expect(page.get_by_role("note")).to_have_text(re.compile(re.escape(NOT_KEPT)))
    skip = page.get_by_role("button", name="Skip ahead 10 min")
    heartbeat = re.compile(rf"/titles/{played.pk}/play/unkept-heartbeat/$")
    for _ in range(2):  # 20 minutes: half way, then the end
        with page.expect_response(
            lambda r: heartbeat.search(r.url) and r.request.method == "POST"
        ) as answer:
            skip.click()
        assert answer.value.status == 200
        expect(page.locator("#player-status")).to_have_text("Your place is not saved.")
    expect(page.locator("[data-player-percent]")).to_have_text("100%")
    expect(page.get_by_role("button", name="Play", exact=True)).to_be_hidden()
    expect(page.get_by_role("button", name="Play again")).to_be_visible()
    screenshot(page, tmp_path, "player")
    assert ViewingEvent.objects.filter(profile__user=user).count() == 0
    page.goto("/history/")
    expect(page.get_by_role("heading", name="No viewings yet")).to_be_visible()
    expect(page.get_by_role("main").get_by_role("link", name="Ronin")).to_have_count(0)
    page.goto("/continue-watching/")
    expect(page.get_by_role("main").get_by_role("link", name="Ronin")).to_have_count(0)

    # Download my data: the worker builds it while the page polls. The worker
    # leaves the queue alone until the page shows the export waiting, so the
    # link can only come through the polling.
    worker_log_start = celery_worker.log_size()
    page.goto("/privacy/")
    page.get_by_role("link", name="Download my data").click()
    expect(page).to_have_url(re.compile(r"/privacy/export/$"))
    polls = []
    page.on(
        "request",
        lambda r: polls.append(r.url) if r.headers.get("hx-request") else None,
    )
    with worker_off_queue(celery_worker, "default"):
        page.get_by_role("button", name="Build my export").click()
        expect(page.get_by_text("Your export is being built: usually")).to_be_visible()
        export = DataExport.objects.get(user=user)
        item = page.locator(f"#export-{export.pk}")
        expect(item.get_by_text("Waiting to start…")).to_be_visible()
        expect(item).to_have_attribute("hx-get", f"/privacy/export/{export.pk}/")
        export.refresh_from_db()
        assert export.status == DataExport.Status.PENDING
    download_link = item.get_by_role("link", name="Download the zip")
    try:
        expect(download_link).to_be_visible(timeout=EXPORT_BUILT_WITHIN_MS)
    except AssertionError:
        export.refresh_from_db()
        pytest.fail(
            f"the export is {export.status} ({export.error!r}); "
            f"worker log:\n{celery_worker.log_tail()}"
        )
    expect(item).not_to_have_attribute("hx-get", re.compile(".*"))
    expect(page.get_by_role("button", name="Build my export")).to_be_enabled()
    expect(page.get_by_text("An export is being built.")).to_have_count(0)
    assert polls and set(polls) == {f"{live_server.url}/privacy/export/{export.pk}/"}
    export.refresh_from_db()
    assert export.status == DataExport.Status.READY
    # Built by the worker process, not eagerly in this one.
    wait_until(
        lambda: re.search(
            rf"Task privacy\.tasks\.build_export\[[^]]+\] succeeded in [^:]+: {export.pk}\b",
            celery_worker.log(worker_log_start),
        ),
        f"the worker did not log building export {export.pk}",
    )
    screenshot(page, tmp_path, "export-ready")

    with page.expect_download() as download_info:
        download_link.click()
    download = download_info.value
    assert download.suggested_filename.endswith(f"-{export.pk}.zip")
    zip_path = tmp_path / "export.zip"
    download.save_as(zip_path)
    with zipfile.ZipFile(zip_path) as archive:
        names = set(archive.namelist())
        assert {"README.txt", "account.json", "ratings.json", "ratings.csv"} <= names
        readme = archive.read("README.txt").decode()
        parsed = {
            name: json.loads(archive.read(name))
            for name in names
            if name.endswith(".json")
        }
    assert "ratings.json" in readme
    assert [row["email"] for row in parsed["account.json"]] == [EMAIL]
    assert [
        (row["profile_id"], row["title_id"], row["value"])
        for row in parsed["ratings.json"]
    ] == [(profile.pk, rated.pk, 4.0)]
    assert parsed["viewings.json"] == []

    # Erase the account: password and the e-mail typed out.
    page.goto("/privacy/erase/")
    screenshot(page, tmp_path, "erase")
    page.locator("#id_account-password").fill(PASSWORD)
    page.locator("#id_account-confirm").fill(EMAIL)
    page.get_by_role("button", name="Erase my account").click()
    expect(page).to_have_url(re.compile(r"/privacy/erase/receipt/[^/]+/$"))
    expect(page.get_by_role("heading", name="Your account is erased")).to_be_visible()
    receipt = ErasureReceipt.objects.get()
    expect(page.get_by_text(receipt.reference)).to_be_visible()
    screenshot(page, tmp_path, "receipt")
    assert not User.objects.filter(email__iexact=EMAIL).exists()
    assert not Profile.objects.filter(pk=profile.pk).exists()
    assert not DataExport.objects.filter(pk=export.pk).exists()
    assert not Path(export.file).exists()
    assert logged_in_user_ids(page) == []

    # The same e-mail and password no longer log in.
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(
        page.get_by_text("That e-mail address and password do not match an account.")
    ).to_be_visible()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    assert logged_in_user_ids(page) == []
    assert page.goto("/privacy/").url.endswith("/accounts/login/?next=/privacy/")
    assert not User.objects.filter(email__iexact=EMAIL).exists()
