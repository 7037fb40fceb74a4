"""System checks of the deployment, run by every ``manage.py check``.

A per-process cache (Django's default, memory) is a silent failure in
production: each gunicorn worker keeps its own copy of the sessions and the
home rows, so a viewer whose next request lands on another worker sees an
older session (no profile chosen) and what they post there is lost. Nothing
fails loudly, so this check does, whenever ``DEBUG`` is off. It is a normal
check rather than a deploy-only one, so ``migrate`` and ``runserver`` refuse
such a configuration too; ``check --deploy`` includes it.
"""

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.utils.module_loading import import_string

#: Backends whose entries live inside one process (or nowhere).
PER_PROCESS_BACKENDS = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)
#: Session stores that read the cache (``cached_db`` falls back to the
#: database on a miss, but trusts whatever its own process cached).
CACHE_SESSION_STORES = (
    "django.contrib.sessions.backends.cache.SessionStore",
    "django.contrib.sessions.backends.cached_db.SessionStore",
)

HINT = (
    "Set CACHE_URL to a cache every process shares, e.g. "
    "CACHE_URL=redis://127.0.0.1:6379/1 (see .env.example)."
)


def _is_subclass(dotted_path: str, bases: tuple[str, ...]) -> bool:
    """Whether the class at ``dotted_path`` is one of ``bases`` (or derives
    from one); False when it cannot be imported (Django reports that)."""
    try:
        found = import_string(dotted_path)
    except ImportError:
        return False
    return issubclass(found, tuple(map(import_string, bases)))


def _is_per_process(alias: str) -> bool:
    backend = settings.CACHES.get(alias, {}).get("BACKEND", "")
    return _is_subclass(backend, PER_PROCESS_BACKENDS)


def _sessions_use_the_cache() -> bool:
    return _is_subclass(f"{settings.SESSION_ENGINE}.SessionStore", CACHE_SESSION_STORES)


@register(Tags.caches)
def check_cache_is_shared(app_configs=None, **kwargs) -> list[Error]:
    """Error when ``DEBUG`` is off and the cache (or the sessions' cache) lives
    in each process."""
    if settings.DEBUG:
        return []
    errors = []
    session_alias = settings.SESSION_CACHE_ALIAS if _sessions_use_the_cache() else None
    for alias in dict.fromkeys(["default", session_alias]):
        if alias is None or not _is_per_process(alias):
            continue
        backend = settings.CACHES[alias]["BACKEND"].rsplit(".", 1)[-1]
        sessions = alias == session_alias
        kept = "sessions, " if sessions else ""
        if alias == "default":
            kept += "home rows, search counts and throttles"
        effect = (
            "a viewer's next request on another worker sees an older session, "
            "and what they post there can be lost"
            if sessions
            else "each worker serves what it cached itself, behind the others"
        )
        errors.append(
            Error(
                f"The cache {alias!r} is {backend}, which lives inside each "
                f"process, and DEBUG is off: each web worker would keep its own "
                f"{kept.removesuffix(', ')}, so {effect}.",
                hint=HINT,
                obj=f"CACHES[{alias!r}]",
                id="config.E001" if alias == "default" else "config.E002",
            )
        )
    return errors
