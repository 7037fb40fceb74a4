"""The rules of collection and use: what each profile's choices allow.

Every app that collects a signal or builds rows asks here (never reads
``PrivacySettings`` fields itself), so "history paused" or "a private
session" means the same everywhere. A profile that never changed a setting
has the defaults, unsaved.

Personalized rows off is the non-profiling mode (DSA Art. 38; the EDPB asks
that it stop the profiling data collection too), switched on the home page
or in the centre. While it is on (:func:`profiling_on` is False):

- the rows are everyone's, and the profile's candidates are neither
  refreshed (:func:`may_learn`) nor scored after a training
  (:func:`profiling_profiles`);
- no search, no row engagement and no device class is recorded;
- plays are kept only while the viewer keeps them for Continue watching
  (viewing history not paused: the home switch's sub-option);
- explicit acts (ratings, thumbs, not interested, My List) are kept as the
  viewer's own record, but nothing learns from them: no refresh, and the
  profile stays out of every training set (:func:`training_profiles`).
"""

from django.contrib.sessions.backends.base import SessionBase
from django.db.models import Q

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


def profiling_on(profile: Profile) -> bool:
    """False in the non-profiling mode (personalized rows off)."""
    return settings_for(profile).personalization


def may_learn(profile: Profile) -> bool:
    """Whether a new signal may refresh the profile's candidates (fold-in)."""
    return profiling_on(profile)


def taste_levels(settings: PrivacySettings) -> dict[int, int]:
    """The viewer's adjustments of its taste: genre id → percent (0 = off,
    100 = as its history says), as the rows apply them. Entries that are not
    a genre id and a whole percent from 0 to 200 are ignored."""
    levels = {}
    for key, value in (settings.taste_adjustments or {}).items():
        if str(key).isdigit() and type(value) is int and 0 <= value <= 200:
            levels[int(key)] = value
    return levels


def may_store_viewing(profile: Profile, *, private_session: bool = False) -> bool:
    """False while viewing history is paused or the session is private.

    In the non-profiling mode "not paused" is the viewer's choice to keep
    plays for Continue watching; nothing learns from them (:func:`may_learn`).
    """
    return not private_session and not settings_for(profile).pause_viewing_history


def may_store_search(profile: Profile, *, private_session: bool = False) -> bool:
    """False while search history is paused, the session is private, or in
    the non-profiling mode."""
    settings = settings_for(profile)
    return (
        not private_session
        and not settings.pause_search_history
        and settings.personalization
    )


def may_store_device(profile: Profile) -> bool:
    """Whether a play may keep its device class: contextual signals on, and
    not in the non-profiling mode."""
    settings = settings_for(profile)
    return settings.contextual_signals and settings.personalization


def may_record_impressions(profile: Profile, *, private_session: bool = False) -> bool:
    """Whether the rows a profile is shown, and the plays and ratings that
    follow them, may be kept (``activity.models.Impression``): never while
    viewing history is paused, in a private session, or in the
    non-profiling mode."""
    settings = settings_for(profile)
    return (
        not private_session
        and not settings.pause_viewing_history
        and settings.personalization
    )


def may_record_engagement(session: SessionBase, profile: Profile | None) -> bool:
    """Whether titles opened from a row, and plays and ratings of them, may
    count for that kind of row: never in a private session or in the
    non-profiling mode."""
    return (
        profile is not None
        and not private_session_on(session, profile)
        and profiling_on(profile)
    )


def profiling_profiles(prefix: str = "") -> Q:
    """The profiles not in the non-profiling mode, as a filter on rows that
    reach the profile through ``prefix`` (no settings saved: the defaults)."""
    return Q(**{f"{prefix}privacy__isnull": True}) | Q(
        **{f"{prefix}privacy__personalization": True}
    )


def training_profiles(prefix: str = "profile__") -> Q:
    """The profiles whose data may enter a training set (a filter on rows
    that reach the profile through ``prefix``): training allowed, and not in
    the non-profiling mode."""
    return Q(**{f"{prefix}allow_training": True}) & profiling_profiles(prefix)


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
