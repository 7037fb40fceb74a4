"""The published schema against the running site: Schemathesis fuzzes every
operation of ``/api/schema/`` on a live server (PostgreSQL, the test
database) and checks that each answer is what the schema says.

Checks: no 5xx, every status documented, the documented content type,
headers and body schema, and no operation that answers 2xx without
credentials (``ignored_auth``). Three programs are run, each on a fresh
world of two accounts (:func:`tests.api.conftest.world_build`): an
``account``-scope token, a ``read-write`` one, and a token tied to a kids
profile. Path ids are drawn most of the time from the world's own objects
(both accounts': ours must work, the other's must be 404), else generated.

The run is bounded (examples per operation, :data:`MAX_EXAMPLES`) and seeded
(:data:`SEED`), so a failure comes back the same way; a failing run lists
every failure with its check and a curl command to reproduce it.

What the fuzzer must not do to its own fixtures: it cannot erase the account
or a profile (that needs the password, which it is not given); the tokens it
runs with are moved to ids it does not reach (``token_id`` is drawn from a
spare token, or generated), and each run ends by checking its token still
works. Rates are raised so that it is not answered 429 all along
(:func:`test_throttled_write_is_a_documented_429` keeps the 429).

The server is pytest-django's ``live_server`` (a thread of this process on
the test database), so the fuzzing tests commit their data
(``transactional_db``) and Celery runs eagerly inside the server's requests.
"""

import socket
import time
from collections import Counter
from dataclasses import dataclass, field

import pytest
import requests
import schemathesis
from rest_framework.test import APIClient
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events, from_schema

from accounts.models import AccessToken
from accounts.services import token_create
from activity.models import Rating
from config.celery import app as celery_app
from recommendations.models import ModelVersion
from tests.api.conftest import World, world_build
from tests.factories import AccountFactory

#: The fuzzing runs: a live server on PostgreSQL, committed data.
FUZZ = pytest.mark.services
SEED = 20260312
#: Generated cases per operation in the fuzzing phase. The account token's
#: run adds the coverage phase (about 40 cases an operation); the whole file
#: takes about a minute and a half on two cores.
MAX_EXAMPLES = 10
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "ignored_auth",
)
#: What a reproduction's curl command says instead of the run's secret.
TOKEN = "$TOKEN"
#: How often a path id is one of the world's (else generated).
FROM_WORLD = 0.8


@pytest.fixture
def high_rates(settings) -> None:
    """Rates no fuzzing run reaches (the 429 keeps its own test)."""
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": dict.fromkeys(rates, "100000/min"),
    }


#: Where the tokens the programs run with are moved: far from the small ids
#: the fuzzer tries, so that ``DELETE /tokens/{token_id}/`` never revokes the
#: token of the run itself.
OUT_OF_REACH = 7_000_000


@pytest.fixture
def fuzz_world(transactional_db, export_dir, high_rates, postgres) -> World:
    world = world_build()
    for n, (name, (token, _)) in enumerate(world.ada.tokens.items()):
        if name != "spare":
            AccessToken.objects.filter(pk=token.pk).update(id=OUT_OF_REACH + n)
            token.pk = OUT_OF_REACH + n
    return world


def _chunked_body_discard(rfile) -> None:
    """Reads a chunked request body off the connection, to the last chunk
    and its trailers."""
    while size := int(rfile.readline(65537).split(b";")[0].strip() or b"0", 16):
        rfile.read(size + 2)  # the chunk and its CRLF
    while rfile.readline(65537) not in (b"\r\n", b"\n", b""):
        pass


@pytest.fixture
def server(live_server) -> str:
    """The live server's URL, with two repairs to Django's development server
    for a fast, kept-alive client:

    - no Nagle delay: it writes headers and body apart, and the second write
      waits for the client's delayed ACK (40 ms a request);
    - a chunked request body (some generated form bodies are sent so) is read
      off the connection. Django reads a body by its Content-Length only (so
      the view sees none, as behind any server); left unread, the chunks
      would be taken for the next request on the connection.
    """
    httpd = live_server.thread.httpd
    if getattr(httpd, "repaired", False):
        return live_server.url
    accept = httpd.get_request

    def get_request():
        sock, address = accept()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock, address

    class Handler(httpd.RequestHandlerClass):
        def parse_request(self) -> bool:
            if not super().parse_request():
                return False
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                _chunked_body_discard(self.rfile)
            return True

    httpd.get_request = get_request
    httpd.RequestHandlerClass = Handler
    httpd.repaired = True
    return live_server.url


# --- running Schemathesis ------------------------------------------------------


@dataclass
class Finding:
    operation: str
    check: str
    title: str
    message: str
    curl: str

    def __str__(self) -> str:
        message = self.message.strip().replace("\n", "\n      ")
        return (
            f"- {self.operation} [{self.check}] {self.title}\n"
            f"      {message}\n      reproduce: {self.curl}"
        )


@dataclass
class Report:
    program: str
    operations: set = field(default_factory=set)
    cases: int = 0
    statuses: Counter = field(default_factory=Counter)
    phases: Counter = field(default_factory=Counter)
    phase_seconds: dict = field(default_factory=dict)
    findings: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(self.statuses.items()))
        return (
            f"{self.program}: {len(self.operations)} operations, {self.cases} "
            f"cases ({dict(self.phases)}) in {self.seconds:.1f} s "
            f"({self.phase_seconds}); "
            f"statuses {statuses}; "
            f"{len(self.findings)} failures, {len(self.errors)} errors"
        )

    def details(self) -> str:
        lines = [self.summary()]
        lines += [str(finding) for finding in self.findings.values()]
        lines += [f"- error: {error}" for error in self.errors]
        return "\n".join(lines)


def _dictionaries(world: World) -> dict:
    """Ids of both accounts' objects, by path parameter name."""
    values: dict[str, list[int]] = {}
    for family in world.families:
        profiles = (family.adult, family.kid)
        values.setdefault("profile_id", []).extend(h.profile.pk for h in profiles)
        values.setdefault("export_id", []).append(family.export.pk)
        # Never the token a program runs with: revoking it would end the run.
        values.setdefault("token_id", []).append(family.tokens["spare"][0].pk)
        for holdings in profiles:
            rows = holdings.rows
            values.setdefault("rating_id", []).append(rows["rating"].pk)
            values.setdefault("viewing_id", []).append(rows["play"].pk)
            values.setdefault("item_id", []).append(rows["list"].pk)
            values.setdefault("feedback_id", []).extend(
                rows[kind].pk for kind in ("thumbs_up", "thumbs_down", "pick")
            )
            values.setdefault("event_id", []).append(rows["search"].pk)
    values["title_id"] = [title.pk for title in world.catalog.titles]
    values["pk"] = values["title_id"]
    values["collection_id"] = [world.catalog.collection.pk]
    values["genre_id"] = [genre.pk for genre in world.catalog.genres]
    values["version_id"] = list(ModelVersion.objects.values_list("pk", flat=True))
    return {name: ids for name, ids in values.items() if ids}


def _config(
    base_url: str, secret: str, world: World, *, coverage: bool, max_examples: int
) -> SchemathesisConfig:
    values = _dictionaries(world)
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "base-url": base_url,
            "auth": {"openapi": {"tokenAuth": {"bearer": secret}}},
            "checks": {
                "enabled": False,
                **{name: {"enabled": True} for name in CHECKS},
            },
            "phases": {
                "coverage": {"enabled": coverage},
                "stateful": {"enabled": False},
            },
            "generation": {
                "max-examples": max_examples,
                "database": "none",
                "no-shrink": True,
            },
            "request-timeout": 20,
            "workers": 1,
            "dictionaries": {name: {"values": ids} for name, ids in values.items()},
            "parameters": {
                f"path.{name}": {"dictionary": name, "probability": FROM_WORLD}
                for name in values
            },
        }
    )


def _schema_of(base_url: str) -> dict:
    response = requests.get(
        f"{base_url}/api/schema/", headers={"Accept": "application/json"}, timeout=30
    )
    response.raise_for_status()
    return response.json()


def schemathesis_run(
    program: str,
    base_url: str,
    secret: str,
    world: World,
    *,
    coverage: bool = False,
    max_examples: int = MAX_EXAMPLES,
    under: str = "/api/",
) -> Report:
    """Runs Schemathesis on every operation of the server's schema (whose
    path starts with ``under``), signed in with the token ``secret``: the
    coverage phase (boundary values, and methods the schema does not list)
    when asked, then ``max_examples`` generated cases per operation."""
    config = _config(
        base_url, secret, world, coverage=coverage, max_examples=max_examples
    )
    raw = _schema_of(base_url)
    raw["paths"] = {p: op for p, op in raw["paths"].items() if p.startswith(under)}
    schema = schemathesis.openapi.from_dict(raw, config=config)
    report = Report(program)
    started = time.monotonic()
    for event in from_schema(schema).execute():
        if isinstance(event, events.PhaseStarted):
            phase_started = time.monotonic()
        elif isinstance(event, events.PhaseFinished):
            report.phase_seconds[event.phase.name.value] = round(
                time.monotonic() - phase_started, 1
            )
        if isinstance(event, events.ScenarioFinished):
            _record(report, event)
        elif isinstance(event, events.NonFatalError):
            report.errors.append(f"{event.label}: {event.info.format()}")
        elif isinstance(event, events.FatalError):
            report.errors.append(f"fatal: {event.exception!r}")
        elif (
            isinstance(event, events.EngineFinished)
            and event.stop_reason.value != "completed"
        ):
            report.errors.append(f"stopped early: {event.stop_reason.value}")
    report.seconds = time.monotonic() - started
    return report


def _record(report: Report, event: events.ScenarioFinished) -> None:
    recorder = event.recorder
    if event.status == Status.SKIP:
        return
    report.operations.add(recorder.label)
    report.cases += len(recorder.cases)
    report.phases[event.phase.value] += len(recorder.cases)
    for interaction in recorder.interactions.values():
        if interaction.response is not None:
            report.statuses[interaction.response.status_code] += 1
    for checks in recorder.checks.values():
        for check in checks:
            if check.status != Status.FAILURE or check.failure_info is None:
                continue
            failure = check.failure_info.failure
            key = (recorder.label, check.name, failure.title)
            report.findings.setdefault(
                key,
                Finding(
                    operation=recorder.label,
                    check=check.name,
                    title=failure.title,
                    message=failure.message or "",
                    curl=check.failure_info.code_sample.replace(
                        "Authorization: [Filtered]", f"Authorization: Bearer {TOKEN}"
                    ),
                ),
            )


def assert_clean(report: Report, world: World, token: str) -> None:
    """No failure, and the run's token still signed in at its end (had the
    fuzzer revoked it, most of the run would have been 401s)."""
    print(report.summary())
    assert report.operations, "Schemathesis ran no operation"
    assert not report.findings and not report.errors, report.details()
    running = AccessToken.objects.get(pk=world.ada.tokens[token][0].pk)
    assert running.is_active, f"the {token} token was revoked during the run"


# --- the runs ------------------------------------------------------------------


@FUZZ
def test_schema_holds_for_an_account_token(server: str, fuzz_world: World) -> None:
    report = schemathesis_run(
        "account token",
        server,
        fuzz_world.ada.secret("account"),
        fuzz_world,
        coverage=True,
    )
    assert_clean(report, fuzz_world, "account")


@FUZZ
def test_schema_holds_for_a_read_write_token(server: str, fuzz_world: World) -> None:
    report = schemathesis_run(
        "read-write token",
        server,
        fuzz_world.ada.secret("read-write"),
        fuzz_world,
    )
    assert_clean(report, fuzz_world, "read-write")


@FUZZ
def test_schema_holds_for_a_kids_profile_token(server: str, fuzz_world: World) -> None:
    report = schemathesis_run(
        "kids token", server, fuzz_world.ada.secret("kid"), fuzz_world
    )
    assert_clean(report, fuzz_world, "kid")


@FUZZ
def test_schema_holds_for_staff_on_model_versions(
    server: str, fuzz_world: World, artifact_dir, demo_catalog
) -> None:
    """Model versions (staff only; 403 to everybody else, which the runs
    above see): a staff account's token, with two versions trained. "Train
    now" queues a training for the worker, which is not running here."""
    from recommendations.services import training

    params = {"n_factors": 10, "n_epochs": 5, "random_state": 0}
    training.model_train(params=params)
    training.model_train(params=params | {"random_state": 1}, force=True)
    staff = AccountFactory(email="ops@example.com", is_staff=True)
    _, secret = token_create(user=staff, name="ops", scope=AccessToken.Scope.ACCOUNT)
    AccessToken.objects.filter(user=staff).update(id=OUT_OF_REACH - 1)
    conf = celery_app.conf
    eager, conf.task_always_eager = conf.task_always_eager, False
    try:
        report = schemathesis_run(
            "staff token",
            server,
            secret,
            fuzz_world,
            coverage=True,
            under="/api/v1/model-versions/",
        )
    finally:
        conf.task_always_eager = eager
    print(report.summary())
    assert report.operations, "Schemathesis ran no operation"
    assert not report.findings and not report.errors, report.details()


# --- the 429 the fuzzing runs raise the rates to avoid ---------------------------


def _views_by_operation(raw: dict):
    """``(label, operation, view class)`` of every operation of the schema,
    the view found by resolving its path with ids filled in."""
    import re

    from django.urls import resolve

    for path, item in raw["paths"].items():
        view = resolve(re.sub(r"\{[^}]+\}", "1", path)).func
        for method, operation in item.items():
            if method.upper() in {"GET", "POST", "PUT", "PATCH", "DELETE"}:
                yield f"{method.upper()} {path}", operation, getattr(view, "cls", None)


def _as_schemathesis(response, method: str, url: str) -> schemathesis.Response:
    """A Django test client's response, as Schemathesis validates them."""
    return schemathesis.Response(
        status_code=response.status_code,
        headers={name.lower(): [value] for name, value in response.headers.items()},
        content=response.content,
        request=requests.Request(method, f"http://testserver{url}").prepare(),
        elapsed=0.0,
        verify=True,
    )


@pytest.mark.django_db
def test_every_throttled_operation_documents_429(client) -> None:
    raw = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    throttled = [
        (label, operation)
        for label, operation, view in _views_by_operation(raw)
        if view is not None and view.throttle_classes
    ]

    undocumented = [label for label, op in throttled if "429" not in op["responses"]]
    assert throttled
    assert not undocumented, f"throttled but no 429 documented: {undocumented}"


@pytest.mark.django_db
def test_throttled_write_is_a_documented_429(settings, client, world: World) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "profile-writes": "1/min",
        },
    }
    raw = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    schema = schemathesis.openapi.from_dict(raw)
    path = "/api/v1/profiles/{profile_id}/ratings/"
    operation = schema[path]["POST"]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {world.ada.secret('account')}")
    url = path.format(profile_id=world.ada.adult.profile.pk)
    title = world.catalog.for_kids[5]

    first = api.post(url, {"title": title.pk, "value": 3.5}, format="json")
    second = api.post(url, {"title": title.pk, "value": 4}, format="json")

    assert first.status_code == 201, first.content
    assert second.status_code == 429, second.content
    assert 1 <= int(second["Retry-After"]) <= 60
    assert "429" in raw["paths"][path]["post"]["responses"]
    operation.validate_response(_as_schemathesis(second, "POST", url))
    assert second.json()["errors"][0]["code"] == "throttled"
    rating = Rating.objects.get(profile=world.ada.adult.profile, title=title)
    assert rating.value == 3.5
