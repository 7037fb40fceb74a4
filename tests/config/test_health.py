"""/healthz and /readyz: what an orchestrator and an operator read from them."""

import shutil
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from django.db import connections
from django.utils import timezone

from config.celery import app as celery_app
from recommendations.engine import artifact
from recommendations.models import ModelVersion
from tests.conftest import RedisServer, free_port, need_service

#: A probe names the process by its address, which ALLOWED_HOSTS does not list.
PROBE = {"HTTP_HOST": "10.0.0.7:8000"}


def active_model(folder: Path, *, corrupt: bool = False) -> ModelVersion:
    path = folder / "model.npz"
    sha256 = artifact.save(path, {"user_ids": np.arange(3)})
    if corrupt:
        path.write_bytes(path.read_bytes()[:-10] + b"0123456789")
    return ModelVersion.objects.create(
        algorithm="svd",
        status=ModelVersion.Status.ACTIVE,
        artifact=str(path),
        sha256=sha256,
        finished_at=timezone.now() - timedelta(hours=3),
    )


@pytest.fixture
def spare_redis(tmp_path, settings, monkeypatch):
    """A redis-server of this test, used as the cache and the broker, with a
    password in the broker's address."""
    need_service(shutil.which("redis-server") is not None, "needs redis-server")
    server = RedisServer(free_port(), tmp_path)
    server.start()
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.DegradingRedisCache",
            "LOCATION": server.url,
        }
    }
    url = f"redis://:s3cret-word@127.0.0.1:{server.port}/0"
    # Celery reads its broker from the environment before its settings.
    monkeypatch.setenv("CELERY_BROKER_URL", url)
    monkeypatch.setattr(celery_app.conf, "broker_url", url)
    yield server
    server.crash()


def test_healthz_answers_a_probe_without_checking_anything(client, settings):
    settings.SECURE_SSL_REDIRECT = True  # a probe over plain HTTP is not redirected

    response = client.get("/healthz", **PROBE)

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"
    assert response["Content-Type"] == "application/json"


def test_probes_answer_only_get_and_head(client):
    response = client.post("/readyz", **PROBE)

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert response.json()["errors"][0]["code"] == "method_not_allowed"
    assert client.head("/healthz", **PROBE).status_code == 200


def test_readyz_all_up_reports_each_check_ok(client, db, tmp_path, settings):
    settings.SECURE_SSL_REDIRECT = True
    version = active_model(tmp_path)

    response = client.get("/readyz", **PROBE)

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["status"] == "ok"
    checks = body["checks"]
    assert list(checks) == ["database", "cache", "broker", "model"]
    assert {name: check["status"] for name, check in checks.items()} == {
        "database": "ok",
        "cache": "ok",
        "broker": "ok",
        "model": "ok",
    }
    assert all(0 <= check["latency_ms"] < 1000 for check in checks.values())
    model = checks["model"]
    assert (model["id"], model["age_hours"], model["checksum"]) == (
        version.pk,
        3.0,
        "verified",
    )


def test_readyz_without_redis_still_serves_and_says_what_is_down(
    client, db, tmp_path, spare_redis
):
    active_model(tmp_path)
    assert client.get("/readyz").json()["checks"]["broker"]["status"] == "ok"
    spare_redis.stop()

    response = client.get("/readyz", **PROBE)

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    cache, broker = body["checks"]["cache"], body["checks"]["broker"]
    assert (cache["status"], cache["backend"]) == ("down", "redis")
    assert (broker["status"], broker["transport"]) == ("down", "redis")
    assert cache["latency_ms"] < 2000
    assert broker["latency_ms"] < 2000
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["model"]["status"] == "ok"
    assert "s3cret-word" not in response.content.decode()
    assert str(spare_redis.port) not in response.content.decode()


def test_readyz_gives_up_on_a_redis_that_hangs_within_a_second(client, db, spare_redis):
    spare_redis.freeze()
    try:
        response = client.get("/readyz", **PROBE)
    finally:
        spare_redis.resume()

    body = response.json()
    assert response.status_code == 200
    assert body["checks"]["cache"]["status"] == "down"
    assert body["checks"]["broker"]["status"] == "down"
    assert body["checks"]["cache"]["latency_ms"] <= 1100
    assert body["checks"]["broker"]["latency_ms"] <= 1100


def test_readyz_is_503_when_the_database_is_unreachable(client, db, monkeypatch):
    # The check opens a connection of its own from these settings.
    monkeypatch.setitem(connections["default"].settings_dict, "PORT", free_port())

    response = client.get("/readyz", **PROBE)

    assert response.status_code == 503
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["status"] == "down"
    assert body["checks"]["database"]["status"] == "down"
    assert body["checks"]["database"]["error"] == "OperationalError"
    assert body["checks"]["database"]["latency_ms"] <= 1100
    assert body["checks"]["model"] == {"status": "unknown", "latency_ms": 0.0}
    assert body["checks"]["cache"]["status"] == "ok"


def test_readyz_reports_no_active_model(client, db):
    response = client.get("/readyz", **PROBE)

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    model = body["checks"]["model"]
    assert (model["status"], model["id"]) == ("none", None)


def test_readyz_reports_a_corrupt_model_file_as_failed(client, db, tmp_path):
    version = active_model(tmp_path, corrupt=True)

    response = client.get("/readyz", **PROBE)

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    model = body["checks"]["model"]
    assert (model["status"], model["id"], model["checksum"]) == (
        "failed",
        version.pk,
        "failed",
    )
    # Reported, not acted on: serving refuses the file when it asks for it.
    version.refresh_from_db()
    assert version.status == ModelVersion.Status.ACTIVE
