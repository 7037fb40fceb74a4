"""The rules of collection and use: what each profile's choices allow.

Every app that collects a signal or builds rows asks here (never reads
``PrivacySettings`` fields itself), so "history paused" or "a private
session" means the same everywhere. A profile that never changed a setting
has the defaults, unsaved.
"""

from django.contrib.sessions.backends.base import SessionBase

from accounts.models import Profile
from consent.models import PrivacySettings

#: Session key: ids of the profiles in a private session in this browser.
PRIVATE_SESSION_KEY = "privacy:private_profile_ids"


def settings_for(profile: Profile) -> PrivacySettings:
    """The profile's settings; the defaults (unsaved) when it never changed any.

    Reads ``profile.privacy``, so a profile loaded with
    ``select_related("privacy")`` (the active-profile middleware does) costs
    no query.
    """
    try:
        return profile.privacy
    except PrivacySettings.DoesNotExist:
        return PrivacySettings(profile=profile)


def hidden_genre_ids(settings: PrivacySettings) -> set[int]:
    """Genres the profile never wants recommended (no query for the defaults)."""
    if settings._state.adding:
        return set()
    return set(settings.hidden_genres.values_list("pk", flat=True))


def may_store_viewing(profile: Profile, *, private_session: bool = False) -> bool:
    """False while viewing history is paused or the session is private."""
    return not private_session and not settings_for(profile).pause_viewing_history


def may_store_search(profile: Profile, *, private_session: bool = False) -> bool:
    """False while search history is paused or the session is private."""
    return not private_session and not settings_for(profile).pause_search_history


def uses_context(profile: Profile) -> bool:
    """True when device class and time of day may be stored and used."""
    return settings_for(profile).contextual_signals


# --- the private session (kept in the browser's session, not the database) ----


def private_session_profile_ids(session: SessionBase) -> set[int]:
    ids = session.get(PRIVATE_SESSION_KEY, [])
    if not isinstance(ids, list):
        return set()
    return {pk for pk in ids if isinstance(pk, int)}


def private_session_on(session: SessionBase, profile: Profile | None) -> bool:
    """Whether this browser session is private for the profile: "don't learn
    from this session" (no plays or searches kept) until it is turned off or
    the session ends (signing out)."""
    return profile is not None and profile.pk in private_session_profile_ids(session)
