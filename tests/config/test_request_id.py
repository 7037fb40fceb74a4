"""The request id: echoed or made, on every log line of the request (JSON
lines with LOG_FORMAT=json), stored with the work it asks for, and on the log
lines of the task that does that work."""

import io
import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from accounts.services import token_create
from config.logs import ContextFilter, JsonFormatter
from outbox import services as outbox_services
from outbox.models import OutboxMessage
from tests.factories import ProfileFactory, TitleFactory

GENERATED = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """Every record, formatted as the console handler does with LOG_FORMAT=json."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_request_id_sent_by_the_client_comes_back(client):
    response = client.get("/accounts/login/", HTTP_X_REQUEST_ID="edge-7f3a:1")

    assert response.status_code == 200
    assert response["X-Request-ID"] == "edge-7f3a:1"


@pytest.mark.parametrize(
    "sent",
    ["", "x" * 129, "two words", "tab\there", "caf\u00e9", "semi;colon", '"quoted"'],
)
def test_a_missing_or_unfit_request_id_is_replaced_by_a_new_one(client, sent):
    headers = {"HTTP_X_REQUEST_ID": sent} if sent else {}

    first = client.get("/accounts/login/", **headers)["X-Request-ID"]
    second = client.get("/accounts/login/", **headers)["X-Request-ID"]

    assert GENERATED.fullmatch(first)
    assert GENERATED.fullmatch(second)
    assert first != second


def test_a_refused_request_carries_its_id_too(client):
    response = client.get("/accounts/login/?q=%00", HTTP_X_REQUEST_ID="r-400")

    assert response.status_code == 400
    assert response["X-Request-ID"] == "r-400"


@pytest.mark.django_db
def test_a_log_line_made_while_handling_a_request_names_the_request(client, json_log):
    client.get("/no-such-page/", HTTP_X_REQUEST_ID="r-404")
    logging.getLogger("after").info("between requests")

    first, after = lines(json_log)
    assert first["logger"] == "django.request"
    assert first["level"] == "WARNING"
    assert first["message"] == "Not Found: /no-such-page/"
    assert first["request_id"] == "r-404"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", first["time"])
    assert "task_id" not in first
    assert after["message"] == "between requests"
    assert "request_id" not in after


@pytest.mark.django_db
def test_the_work_a_request_asks_for_logs_under_the_request_id(
    monkeypatch, django_capture_on_commit_callbacks, json_log
):
    profile = ProfileFactory()
    title = TitleFactory()
    _, secret = token_create(user=profile.user, name="probe")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    held = []  # the broker is away: the work waits in the outbox
    monkeypatch.setattr(outbox_services, "publish", held.append)

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            f"/api/v1/profiles/{profile.pk}/ratings/",
            {"title": title.pk, "value": 4.5},
            format="json",
            HTTP_X_REQUEST_ID="rate-42",
        )

    assert response.status_code == 201
    (message,) = held
    assert message.task == "recommendations.tasks.refresh_profile"
    assert OutboxMessage.objects.get().request_id == "rate-42"

    # The broker is back: the message goes out with the id and runs (eagerly).
    monkeypatch.undo()
    json_log.seek(0)
    json_log.truncate()
    assert outbox_services.publish(OutboxMessage.objects.get())

    records = lines(json_log)
    done = [r for r in records if r["logger"] == "celery.app.trace"]
    assert done, records
    assert done[0]["task_id"] == str(message.task_id)
    assert done[0]["request_id"] == "rate-42"
    assert not OutboxMessage.objects.exists()
    logging.getLogger("after").info("after the task")
    assert "task_id" not in lines(json_log)[-1]
    assert "request_id" not in lines(json_log)[-1]


def test_with_log_format_json_the_site_logs_one_json_object_per_line(tmp_path):
    environment = {
        **os.environ,
        "LOG_FORMAT": "json",
        "MARQUEE_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    program = (
        "import django, logging; django.setup(); "
        "logging.getLogger('marquee.probe').warning('hello %s', 'there')"
    )

    done = subprocess.run(
        [sys.executable, "-c", program],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    (line,) = done.stderr.splitlines()
    entry = json.loads(line)
    assert entry.keys() == {"time", "level", "logger", "message"}
    assert (entry["level"], entry["logger"], entry["message"]) == (
        "WARNING",
        "marquee.probe",
        "hello there",
    )
