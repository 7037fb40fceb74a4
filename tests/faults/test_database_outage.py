"""PostgreSQL away from the worker for 45 s: its tasks retry until it is back.

The worker reaches PostgreSQL through a TCP proxy run by the test; cutting the
proxy closes the worker's connections and refuses new ones (the machine's
PostgreSQL keeps running, and this process keeps its own connection).
"""

import contextlib
import socket
import threading
import time
from datetime import UTC, datetime

import pytest
from django.db import connection

from accounts.models import Profile
from catalog.services import demo_catalog_seed
from recommendations import tasks
from recommendations.models import ProfileCandidates
from recommendations.services import candidates
from tests.conftest import (
    _database_url,
    free_port,
    model_trained_for_the_worker,
    wait_for,
)

pytestmark = pytest.mark.services

OUTAGE_SECONDS = 45


class TcpProxy:
    """Forwards a spare port to ``target`` until :meth:`cut`."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(
            target=self._accept, args=(self._listener,), daemon=True
        ).start()

    def cut(self) -> None:
        """Connections open are closed, and new ones refused (nothing listens)."""
        with self._lock:
            doomed, self._open = [self._listener, *self._open], set()
        for sock in doomed:
            _close(sock)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
                upstream = socket.create_connection(self.target)
            except OSError:
                return
            with self._lock:
                self._open |= {client, upstream}
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(source, sink), daemon=True).start()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        _close(source)
        _close(sink)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # closed already
        sock.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked on it
    sock.close()


@pytest.fixture
def proxy(postgres) -> TcpProxy:
    db = connection.settings_dict
    proxy = TcpProxy((db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432)))
    proxy.start()
    yield proxy
    proxy.cut()


def test_a_45_s_database_outage_during_a_candidate_batch_leaves_no_profile_out(
    own_stack, proxy
):
    db = {**connection.settings_dict, "HOST": "127.0.0.1", "PORT": proxy.port}
    own_stack.start_worker(DATABASE_URL=_database_url(db))
    demo_catalog_seed(
        seed=7, titles=150, viewers=30, until=datetime(2026, 1, 1, tzinfo=UTC)
    )
    version = model_trained_for_the_worker()  # through the proxy, all is well
    profiles = Profile.objects.count()
    ProfileCandidates.objects.all().delete()
    proxy.cut()

    for shard in candidates.candidate_shards(shard_size=5):
        tasks.score_candidates.delay(version.pk, shard)
    time.sleep(OUTAGE_SECONDS)
    proxy.start()

    wait_for(lambda: ProfileCandidates.objects.count() == profiles, timeout=120)
    assert set(ProfileCandidates.objects.values_list("model_version", flat=True)) == {
        version.pk
    }
