"""Reads of a profile's privacy choices, used by every app that personalizes."""

from accounts.models import Profile
from privacy.models import PrivacySettings


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
