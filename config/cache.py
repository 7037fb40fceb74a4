"""The Redis cache, degrading to "no cache" while Redis is away.

Everything the cache holds here can be rebuilt from the database: the home
rows, the catalog snapshot, search counts, throttle counts and the sessions
(``cached_db``: the database has them all). So an unreachable Redis must cost
speed, never a page. :class:`DegradingRedisCache` is Django's own Redis
backend with each operation answering as a miss while Redis is away:

- ``get`` / ``get_many`` / ``has_key`` find nothing; ``get_or_set`` therefore
  computes the value and returns it; ``set``, ``add``, ``delete``, ``touch``
  store nothing; ``incr`` raises ``ValueError``, as for a missing key (our one
  caller, the catalog version bump, then sets the key, which is skipped too).
- Connections give up quickly (:data:`DEFAULT_OPTIONS`): a Redis that hangs
  costs at most one short timeout.
- A circuit breaker: once an operation fails, this process answers every
  operation as a miss for ``retry_after`` seconds without touching the
  network, then lets one operation through to try again. The outage is
  logged once (WARNING) when found and once (INFO) when over, not per request.
- A write that was skipped leaves the old value in Redis (a partition, a
  Redis paused or restarted from a snapshot): a session logged out or
  switched to another profile meanwhile would come back. So the keys of
  skipped writes are remembered, and deleted before anything else once Redis
  answers again.

django-redis's ``DJANGO_REDIS_IGNORE_EXCEPTIONS`` swallows errors too, but
logs each one, has no breaker (each request waits its timeouts) and forgets
skipped writes; it would also bring its own client for one feature.
"""

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

#: Errors meaning "Redis is away" (refused, reset, timed out, still loading).
#: Anything else (a bad key, an unpicklable value) is a bug and is raised.
REDIS_AWAY = (RedisConnectionError, RedisTimeoutError, OSError)

#: Redis answers in well under a millisecond on a local network: waiting
#: longer than this means it is not going to answer soon.
DEFAULT_OPTIONS = {"socket_connect_timeout": 0.25, "socket_timeout": 0.25}
#: Seconds a process answers from the database alone once Redis failed,
#: before letting one operation try Redis again.
DEFAULT_RETRY_AFTER = 5.0
#: Keys of skipped writes remembered per process; beyond this, stale values
#: may be served until they expire (said once in the log).
MAX_STALE_KEYS = 100_000

_MISSING = object()


class _Breaker:
    """Whether Redis is to be tried, for every thread of this process.

    Django gives each thread its own cache object; the breaker and the keys
    of skipped writes are per server list, so all threads share them.
    """

    def __init__(self, servers: list[str], retry_after: float) -> None:
        self.servers = servers
        self.retry_after = retry_after
        self.down_since: float | None = None
        self.retry_at = 0.0
        self.misses = 0
        self.stale: set[str] = set()
        self.stale_overflowed = False
        self.lock = threading.Lock()

    def allow(self) -> bool:
        """True when Redis may be tried: it is up, or a retry is due (then the
        next retry is pushed back, so one caller at a time tries)."""
        if self.down_since is None:  # the usual case, without the lock
            return True
        with self.lock:
            if self.down_since is None:
                return True
            now = time.monotonic()
            if now < self.retry_at:
                self.misses += 1
                return False
            self.retry_at = now + self.retry_after
            return True

    def skipped(self, keys: Iterable[str]) -> None:
        """Remembers keys whose write did not reach Redis."""
        keys = list(keys)
        if not keys:
            return
        with self.lock:
            for key in keys:
                if len(self.stale) >= MAX_STALE_KEYS:
                    if not self.stale_overflowed:
                        self.stale_overflowed = True
                        logger.warning(
                            "More than %d cache writes skipped while Redis at %s "
                            "was away: older values may be served until they expire",
                            MAX_STALE_KEYS,
                            ",".join(self.servers),
                        )
                    return
                self.stale.add(key)

    def take_stale(self) -> list[str]:
        """The remembered keys, forgotten here: the caller deletes them."""
        if not self.stale:  # the usual case, without the lock
            return []
        with self.lock:
            stale, self.stale = list(self.stale), set()
            return stale

    def failed(self, error: Exception) -> None:
        with self.lock:
            now = time.monotonic()
            self.retry_at = now + self.retry_after
            self.misses += 1
            if self.down_since is None:
                self.down_since = now
                logger.warning(
                    "Cache unavailable: Redis at %s (%s: %s); answering as cache "
                    "misses, retrying every %g s",
                    ",".join(self.servers),
                    type(error).__name__,
                    error,
                    self.retry_after,
                )

    def succeeded(self) -> None:
        if self.down_since is None:
            return
        with self.lock:
            if self.down_since is None:
                return
            logger.info(
                "Cache available again: Redis at %s after %.1f s; %d cache "
                "operations were answered as misses meanwhile",
                ",".join(self.servers),
                time.monotonic() - self.down_since,
                self.misses,
            )
            self.down_since, self.misses, self.stale_overflowed = None, 0, False


_breakers: dict[tuple[tuple[str, ...], float], _Breaker] = {}
_breakers_lock = threading.Lock()


def _breaker_for(servers: list[str], retry_after: float) -> _Breaker:
    with _breakers_lock:
        key = (tuple(servers), retry_after)
        if key not in _breakers:
            _breakers[key] = _Breaker(servers, retry_after)
        return _breakers[key]


class DegradingRedisCacheClient(RedisCacheClient):
    """Django's Redis client, each operation going through :meth:`_call`.

    Keys here are the final Redis keys (prefix and version applied).
    """

    def __init__(self, servers, *, retry_after: float, **options) -> None:
        super().__init__(servers, **options)
        self._breaker = _breaker_for(servers, retry_after)

    def _call(
        self,
        operation: Callable[..., Any],
        *args: Any,
        fallback: Any,
        writes: Iterable[str] = (),
    ) -> Any:
        """``operation(*args)``, or ``fallback`` while Redis is away.

        ``writes`` are the keys the operation changes: when it is skipped,
        they are remembered as stale.
        """
        breaker = self._breaker
        if not breaker.allow():
            breaker.skipped(writes)
            return fallback
        stale = breaker.take_stale()
        try:
            for start in range(0, len(stale), 1000):
                super().delete_many(stale[start : start + 1000])
            result = operation(*args)
        except REDIS_AWAY as error:
            breaker.skipped([*stale, *writes])
            breaker.failed(error)
            return fallback
        breaker.succeeded()
        return result

    def add(self, key, value, timeout):
        return self._call(super().add, key, value, timeout, fallback=False)

    def get(self, key, default):
        return self._call(super().get, key, default, fallback=default)

    def set(self, key, value, timeout):
        self._call(super().set, key, value, timeout, fallback=None, writes=[key])

    def touch(self, key, timeout):
        return self._call(super().touch, key, timeout, fallback=False)

    def delete(self, key):
        return self._call(super().delete, key, fallback=False, writes=[key])

    def get_many(self, keys):
        return self._call(super().get_many, keys, fallback={})

    def has_key(self, key):
        return self._call(super().has_key, key, fallback=False)

    def incr(self, key, delta):
        result = self._call(super().incr, key, delta, fallback=_MISSING, writes=[key])
        if result is _MISSING:
            raise ValueError(f"Key '{key}' not found: the cache is unavailable.")
        return result

    def set_many(self, data, timeout):
        self._call(super().set_many, data, timeout, fallback=None, writes=list(data))

    def delete_many(self, keys):
        keys = list(keys)
        self._call(super().delete_many, keys, fallback=None, writes=keys)

    def clear(self):
        return self._call(super().clear, fallback=False)


class DegradingRedisCache(RedisCache):
    """``django.core.cache.backends.redis.RedisCache`` that degrades to misses.

    ``OPTIONS`` are Django's (redis-py connection arguments), with short
    timeouts by default, plus ``retry_after``: the seconds between tries once
    Redis is found away (default :data:`DEFAULT_RETRY_AFTER`).
    ``CACHE_URL=redis://...`` selects this backend (``config/settings.py``).
    """

    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        options = {**DEFAULT_OPTIONS, **self._options}
        options["retry_after"] = float(options.pop("retry_after", DEFAULT_RETRY_AFTER))
        self._options = options
        self._class = DegradingRedisCacheClient

    @property
    def away(self) -> bool:
        """Whether Redis was found away and not yet seen back: callers that
        keep their own copy of a cached value may use it meanwhile instead of
        rebuilding it on every miss."""
        return self._cache._breaker.down_since is not None
