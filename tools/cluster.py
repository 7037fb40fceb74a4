"""A small Marquee cluster on this machine, one network namespace per machine.

Used by ``tests/cluster/`` and ``bench/cluster.py``. Needs root and iproute2
(``ip netns``), PostgreSQL's server binaries and ``redis-server``. Nothing in
the root namespace gets an address: a bridge lives in a namespace of its own
and each "machine" reaches it through a veth pair, on addresses set here::

    svc  10.231.0.1   PostgreSQL and Redis
    web  10.231.0.2   gunicorn (gunicorn.conf.py) and beat (the outbox relay)
    w1   10.231.0.3   a Celery worker (queues training,default; 1 process)
    w2   10.231.0.4   another one

Every process gets its settings from the environment only, as in production
(``DEBUG=false``), with the database artifact store: each process keeps the
model files it downloads in a cache folder of its own. The test process
talks to the cluster through ``ip netns exec`` (psql, curl, manage.py).

Everything is named after this process's pid (``mqc<pid>-...``), so runs
side by side do not meet; :meth:`Cluster.stop` (also on failure) kills every
process started here and every one left in the namespaces, deletes the
namespaces and the temporary folder, and :func:`remove_stale` removes the
namespaces of a run whose process is gone.
"""

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "mqc"
SUBNET = "10.231.0"
ADDRESSES = {
    "svc": f"{SUBNET}.1",
    "web": f"{SUBNET}.2",
    "w1": f"{SUBNET}.3",
    "w2": f"{SUBNET}.4",
}
WORKERS = ("w1", "w2")
#: The interface each machine sees (its end of the veth pair).
DEVICE = "eth0"
WEB_PORT = 8000
DATABASE = "marquee"
PG_BIN = Path("/usr/lib/postgresql/15/bin")


class ClusterError(Exception):
    pass


def available() -> str | None:
    """Why a cluster cannot run here, or None when it can."""
    if os.geteuid() != 0:
        return "the cluster needs root (ip netns)"
    for tool in ("ip", "runuser", "redis-server", "psql", "curl"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    if _pg_bin("initdb") is None:
        return "PostgreSQL's server binaries (initdb) are not installed"
    name = f"{PREFIX}{os.getpid()}-probe"
    probe = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"ip netns is unavailable: {probe.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", name], capture_output=True)
    return None


def _pg_bin(name: str) -> str | None:
    local = PG_BIN / name
    return str(local) if local.exists() else shutil.which(name)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _namespaces() -> list[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    return [line.split()[0] for line in out.stdout.splitlines() if line.strip()]


def _delete_namespace(name: str) -> None:
    """Kills what still runs in ``name``, then deletes it."""
    pids = subprocess.run(
        ["ip", "netns", "pids", name], capture_output=True, text=True
    ).stdout.split()
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid), signal.SIGKILL)
    subprocess.run(["ip", "netns", "del", name], capture_output=True)


def remove_stale() -> list[str]:
    """Deletes the namespaces (killing what runs in them) and temporary
    folders of earlier runs whose process is dead; returns the namespaces."""
    removed = []
    for name in _namespaces():
        match = re.fullmatch(rf"{PREFIX}(\d+)-\w+", name)
        if match and not _alive(int(match[1])):
            _delete_namespace(name)
            removed.append(name)
    for folder in Path(tempfile.gettempdir()).glob(f"{PREFIX}*-*"):
        match = re.fullmatch(rf"{PREFIX}(\d+)-\w+", folder.name)
        if match and folder.is_dir() and not _alive(int(match[1])):
            shutil.rmtree(folder, ignore_errors=True)
    return removed


class Process:
    """A process started in a namespace, in a process group of its own."""

    def __init__(
        self, popen: subprocess.Popen, log: Path, stop_signal: int, stop_wait: float
    ) -> None:
        self.popen = popen
        self.log_path = log
        self.stop_signal = stop_signal
        self.stop_wait = stop_wait

    @property
    def pid(self) -> int:
        return self.popen.pid

    def log(self, start: int = 0) -> str:
        with self.log_path.open("rb") as f:
            f.seek(start)
            return f.read().decode(errors="replace")

    def log_size(self) -> int:
        return self.log_path.stat().st_size

    def stop(self) -> None:
        """Its signal, then SIGKILL to its whole process group."""
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, self.stop_signal)
                self.popen.wait(self.stop_wait)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(5)


def wait_for(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    """Polls ``condition`` until it returns something true; fails after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise ClusterError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


class Cluster:
    """PostgreSQL + Redis, a web process, beat and two workers, each machine
    in its own network namespace. Use as a context manager, or call
    :meth:`start` and (always) :meth:`stop`."""

    def __init__(
        self,
        *,
        data: Path,
        limit_users: int | None = None,
        shard_size: int = 50,
        visibility_timeout: int = 30,
        log: Callable[[str], None] = lambda message: None,
    ) -> None:
        self.data = data
        self.limit_users = limit_users
        self.shard_size = shard_size
        self.visibility_timeout = visibility_timeout
        self.say = log
        self.prefix = f"{PREFIX}{os.getpid()}"
        self.base = Path(tempfile.mkdtemp(prefix=f"{self.prefix}-"))
        self.base.chmod(0o755)  # PostgreSQL (user postgres) lives below
        self.processes: dict[str, Process] = {}
        self.namespaces: list[str] = []

    # --- life cycle -----------------------------------------------------------------

    def __enter__(self) -> "Cluster":
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        remove_stale()
        self._network()
        self.say("network up")
        self._postgres()
        self._redis()
        self.say("PostgreSQL and Redis up")
        self.manage("migrate", "--no-input", "-v0")
        args = ["import_movielens", str(self.data), "-v0"]
        if self.limit_users:
            args += ["--limit-users", str(self.limit_users)]
        self.manage(*args)
        self.say("migrated and imported")
        for name in WORKERS:
            self._worker(name)
        self._web()
        self._beat()
        for name in WORKERS:
            wait_for(
                lambda name=name: (
                    f"{name}@" in self.log(name) and " ready." in self.log(name)
                ),
                90,
                f"worker {name} ready (log: {self.processes[name].log_path})",
            )
        wait_for(
            lambda: self.readyz() is not None, 60, "the web process to answer /readyz"
        )
        self.say("web, beat and workers up")

    def stop(self) -> None:
        """Stops every process, deletes the namespaces (killing whatever still
        runs in them) and the temporary folder: each step even if one before
        it failed."""
        try:
            for process in reversed(list(self.processes.values())):
                process.stop()
        finally:
            try:
                for name in reversed(self.namespaces):
                    _delete_namespace(name)
                self.namespaces.clear()
            finally:
                shutil.rmtree(self.base, ignore_errors=True)

    # --- machines ---------------------------------------------------------------------

    def ns(self, machine: str) -> str:
        return f"{self.prefix}-{machine}"

    def _ip(self, *args: str) -> None:
        done = subprocess.run(["ip", *args], capture_output=True, text=True)
        if done.returncode != 0:
            raise ClusterError(f"ip {' '.join(args)}: {done.stderr.strip()}")

    def _network(self) -> None:
        bridge = self.ns("br")
        for machine in ("br", *ADDRESSES):
            self._ip("netns", "add", self.ns(machine))
            self.namespaces.append(self.ns(machine))
            self._ip("-n", self.ns(machine), "link", "set", "lo", "up")
        self._ip("-n", bridge, "link", "add", "br0", "type", "bridge")
        self._ip("-n", bridge, "link", "set", "br0", "up")
        for machine, address in ADDRESSES.items():
            # Both ends are created inside namespaces: the root one sees neither.
            self._ip(
                "-n", bridge, "link", "add", machine, "type", "veth",
                "peer", "name", DEVICE, "netns", self.ns(machine),
            )  # fmt: skip
            self._ip("-n", bridge, "link", "set", machine, "master", "br0", "up")
            self._ip(
                "-n", self.ns(machine), "addr", "add", f"{address}/24", "dev", DEVICE
            )
            self._ip("-n", self.ns(machine), "link", "set", DEVICE, "up")

    def link_down(self, machine: str) -> None:
        """Cuts ``machine`` off the network (its end of the cable pulled)."""
        self._ip("-n", self.ns(machine), "link", "set", DEVICE, "down")

    def run(
        self, machine: str, *argv: str, env: dict[str, str] | None = None,
        timeout: float = 300, check: bool = True,
    ) -> subprocess.CompletedProcess:  # fmt: skip
        done = subprocess.run(
            ["ip", "netns", "exec", self.ns(machine), *argv],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=timeout,
        )
        if check and done.returncode != 0:
            raise ClusterError(
                f"{' '.join(argv[:3])}... in {machine} failed "
                f"({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
            )
        return done

    def _start(
        self, name: str, machine: str, *argv: str, env: dict[str, str] | None = None,
        stop_signal: int = signal.SIGTERM, stop_wait: float = 10.0,
        user: str | None = None,
    ) -> Process:  # fmt: skip
        log = self.base / f"{name}.log"
        command = ["ip", "netns", "exec", self.ns(machine)]
        if user:
            command += ["runuser", "-u", user, "--"]
        with log.open("wb") as out:
            popen = subprocess.Popen(
                [*command, *argv],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=ROOT,
                start_new_session=True,
            )
        self.processes[name] = process = Process(popen, log, stop_signal, stop_wait)
        return process

    # --- services -----------------------------------------------------------------

    def _postgres(self) -> None:
        data = self.base / "pg"
        data.mkdir()
        shutil.chown(data, "postgres", "postgres")
        subprocess.run(
            ["runuser", "-u", "postgres", "--", _pg_bin("initdb"), "-D", str(data),
             "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"],
            check=True, capture_output=True,
        )  # fmt: skip
        with (data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"listen_addresses = '{ADDRESSES['svc']}'\nport = 5432\n"
                f"unix_socket_directories = '{data}'\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                "max_connections = 100\n"
            )
        with (data / "pg_hba.conf").open("a") as hba:
            hba.write(f"host all all {SUBNET}.0/24 trust\n")
        # SIGQUIT: immediate shutdown (the cluster's data is thrown away).
        self._start(
            "postgres", "svc", _pg_bin("postgres"), "-D", str(data),
            user="postgres", stop_signal=signal.SIGQUIT,
        )  # fmt: skip
        wait_for(
            lambda: self.run("svc", "psql", *self._psql_args("postgres"), "-c",
                             "select 1", check=False).returncode == 0,
            60, "PostgreSQL to accept connections",
        )  # fmt: skip
        self.run("svc", "psql", *self._psql_args("postgres"), "-c",
                 f"create database {DATABASE}")  # fmt: skip

    def _redis(self) -> None:
        folder = self.base / "redis"
        folder.mkdir()
        self._start(
            "redis", "svc", "redis-server", "--bind", ADDRESSES["svc"],
            "--port", "6379", "--save", "", "--appendonly", "no",
            "--protected-mode", "no", "--dir", str(folder),
        )  # fmt: skip
        wait_for(
            lambda: self.run("svc", "redis-cli", "-h", ADDRESSES["svc"], "ping",
                             check=False).stdout.strip() == "PONG",
            30, "Redis to answer",
        )  # fmt: skip

    def _psql_args(self, database: str = DATABASE) -> list[str]:
        return ["-h", ADDRESSES["svc"], "-U", "postgres", "-d", database, "-v",
                "ON_ERROR_STOP=1", "-X", "-q", "-A", "-t", "-F", "\t"]  # fmt: skip

    def sql(self, query: str) -> list[list[str]]:
        """Rows of ``query``, run with psql from the services' machine."""
        out = self.run("svc", "psql", *self._psql_args(), "-c", query).stdout
        return [line.split("\t") for line in out.splitlines() if line]

    def value(self, query: str) -> str | None:
        rows = self.sql(query)
        return rows[0][0] if rows else None

    # --- Marquee ------------------------------------------------------------------

    def env(self, name: str) -> dict[str, str]:
        """The environment of process ``name``: settings as production reads them."""
        svc = ADDRESSES["svc"]
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.base),
            "LANG": "C.UTF-8",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "false",
            "SECRET_KEY": f"cluster-{self.prefix}-not-a-real-secret",
            "ALLOWED_HOSTS": ADDRESSES["web"],
            "SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": f"postgres://postgres@{svc}:5432/{DATABASE}",
            "CACHE_URL": f"redis://{svc}:6379/1",
            "CELERY_BROKER_URL": f"redis://{svc}:6379/0",
            "CELERY_RESULT_BACKEND": f"redis://{svc}:6379/0",
            "CELERY_VISIBILITY_TIMEOUT": str(self.visibility_timeout),
            "MARQUEE_VAR_DIR": str(self.base / f"var-{name}"),
            "STATIC_ROOT": str(self.base / "static"),
            "RECOMMENDER_ARTIFACT_STORE": "database",
            "RECOMMENDER_ARTIFACT_CACHE_DIR": str(self.cache_dir(name)),
            "RECOMMENDER_SHARD_SIZE": str(self.shard_size),
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "PYTHONUNBUFFERED": "1",
        }

    def cache_dir(self, name: str) -> Path:
        """The local artifact cache of process ``name`` (web, w1, w2)."""
        return self.base / f"cache-{name}"

    def manage(self, *args: str, machine: str = "web") -> str:
        python = str(ROOT / ".venv" / "bin" / "python")
        env = self.env(f"manage-{machine}")
        return self.run(machine, python, "manage.py", *args, env=env).stdout

    def shell(self, code: str, machine: str = "web") -> str:
        """Runs ``code`` in ``manage.py shell`` on ``machine``; its stdout."""
        return self.manage("shell", "-v0", "-c", code, machine=machine)

    def _worker(self, name: str) -> None:
        self._start(
            name, name, str(ROOT / ".venv" / "bin" / "celery"), "-A", "config",
            "worker", "--queues", "training,default", "--concurrency", "1",
            "--prefetch-multiplier", "1", "--hostname", f"{name}@marquee",
            "--loglevel", "INFO", env=self.env(name),
            # Cold shutdown; a worker cut off never finishes it (it keeps
            # trying to reach the broker), so it is killed soon after.
            stop_signal=signal.SIGQUIT, stop_wait=3,
        )  # fmt: skip

    def _web(self) -> None:
        env = self.env("web") | {
            "GUNICORN_BIND": f"{ADDRESSES['web']}:{WEB_PORT}",
            "WEB_CONCURRENCY": "1",
        }
        self._start(
            "web", "web", str(ROOT / ".venv" / "bin" / "gunicorn"),
            "-c", "gunicorn.conf.py", "config.wsgi", env=env,
        )  # fmt: skip

    def _beat(self) -> None:
        self._start(
            "beat", "web", str(ROOT / ".venv" / "bin" / "celery"), "-A", "config",
            "beat", "--loglevel", "INFO", "--schedule",
            str(self.base / "beat-schedule"), env=self.env("beat"),
        )  # fmt: skip

    def log(self, name: str, start: int = 0) -> str:
        return self.processes[name].log(start)

    def log_size(self, name: str) -> int:
        return self.processes[name].log_size()

    def get(
        self, path: str, machine: str = "web", headers: dict[str, str] | None = None
    ) -> tuple[int, str]:
        """GET ``path`` from the web process, from ``machine``: (status, body)."""
        sent = [f"-H{name}: {value}" for name, value in (headers or {}).items()]
        done = self.run(
            machine, "curl", "-s", "-m", "30", *sent, "-w", "\n%{http_code}",
            f"http://{ADDRESSES['web']}:{WEB_PORT}{path}", check=False,
        )  # fmt: skip
        body, _, status = done.stdout.rpartition("\n")
        return int(status or 0), body

    def readyz(self) -> dict | None:
        status, body = self.get("/readyz")
        if status not in (200, 503):
            return None
        return json.loads(body)

    # --- what an operator reads and asks ---------------------------------------------

    def newest_version_id(self) -> int:
        return int(
            self.value("select coalesce(max(id), 0) from recommendations_modelversion")
        )

    def active_version(self) -> tuple[int, str] | None:
        """The active model version's id and sha256."""
        rows = self.sql(
            "select id, sha256 from recommendations_modelversion where status = 'active'"
        )
        return (int(rows[0][0]), rows[0][1]) if rows else None

    def profiles_without_candidates(
        self, version_id: int, since: str | None = None
    ) -> int:
        """Profiles with no candidates scored by ``version_id`` (since ``since``,
        a time of the database's clock)."""
        newer = f"and c.updated_at >= '{since}'" if since else ""
        return int(
            self.value(
                "select count(*) from accounts_profile p where not exists ("
                " select 1 from recommendations_profilecandidates c"
                f" where c.profile_id = p.id and c.model_version_id = {version_id}"
                f" and jsonb_array_length(c.title_ids) > 0 {newer})"
            )
        )

    def ask_training(self) -> None:
        """Asks for a training ("Train now" in the admin): through the outbox."""
        self.shell(
            "from recommendations.services.training import training_ask; training_ask()"
        )

    def refresh_all(self, version_id: int) -> None:
        """Fans every profile out in shards to the workers, as a promotion does
        (the fan-out itself runs here, the shards on the workers)."""
        self.shell(
            "from recommendations.tasks import refresh_all_candidates; "
            f"refresh_all_candidates.apply(args=[{version_id}])"
        )

    def lock_table(self, table: str) -> subprocess.Popen:
        """Holds an ACCESS EXCLUSIVE lock on ``table`` (every query of it waits)
        until :meth:`unlock`."""
        session = subprocess.Popen(
            ["ip", "netns", "exec", self.ns("svc"), "psql", *self._psql_args()],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        session.stdin.write(
            f"begin;\nlock table {table} in access exclusive mode;\nselect 'locked';\n"
        )
        session.stdin.flush()
        if session.stdout.readline().strip() != "locked":
            session.kill()
            raise ClusterError(f"could not lock {table}")
        return session

    def unlock(self, session: subprocess.Popen) -> None:
        if session.poll() is None:
            session.stdin.write("commit;\n")
            session.stdin.close()
            session.wait(30)

    def waiting_on_a_lock(self, machine: str) -> int:
        """Database sessions from ``machine`` waiting for a lock."""
        return int(
            self.value(
                "select count(*) from pg_stat_activity where wait_event_type = 'Lock'"
                f" and client_addr = '{ADDRESSES[machine]}'"
            )
        )


def task_ids(log: str, task: str, event: str) -> list[str]:
    """Ids of ``task`` in a worker's log lines ``Task <task>[<id>] <event>``."""
    return re.findall(rf"Task {re.escape(task)}\[([0-9a-f-]+)\] {event}", log)
