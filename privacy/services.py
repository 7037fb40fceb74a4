"""Every write of the privacy app: settings changes (each logged as a
ConsentEvent in the same transaction), exports, erasure and retention."""

from typing import Any

from django.db import transaction

from accounts.models import Profile
from catalog.models import Genre
from privacy.models import ConsentEvent, PrivacySettings

#: Settings a viewer changes with a toggle or a choice, and how they are shown
#: in the consent log. ``allow_training`` lives on the profile itself.
SETTING_FIELDS = (
    "personalization",
    "pause_viewing_history",
    "pause_search_history",
    "contextual_signals",
    "retention_months",
    "exploration",
    "calibration",
)
PROFILE_FIELDS = ("allow_training",)


def consent_event_record(
    *,
    profile: Profile | None,
    user_id: int,
    kind: str,
    what: str,
    old: Any = "",
    new: Any = "",
) -> ConsentEvent:
    """Appends one line to the account's consent log."""
    return ConsentEvent.objects.create(
        user_id=user_id,
        profile_id_at_time=profile.pk if profile else None,
        profile_name=profile.name if profile else "",
        kind=kind,
        what=what,
        old_value=str(old),
        new_value=str(new),
    )


def _display(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


@transaction.atomic
def privacy_settings_update(*, profile: Profile, **changes: Any) -> PrivacySettings:
    """Changes some of the profile's settings; each real change is logged.

    Keys are names in :data:`SETTING_FIELDS` or :data:`PROFILE_FIELDS`; an
    unknown key raises ``TypeError``, a value out of range ``ValueError``.
    What follows from a change (a retention purge, a refresh of the rows) is
    scheduled by the caller.
    """
    unknown = set(changes) - set(SETTING_FIELDS) - set(PROFILE_FIELDS)
    if unknown:
        raise TypeError(f"Unknown privacy settings: {', '.join(sorted(unknown))}")
    settings, _ = PrivacySettings.objects.select_for_update().get_or_create(
        profile=profile
    )
    if "exploration" in changes and not (
        0 <= int(changes["exploration"]) <= PrivacySettings.EXPLORATION_MAX
    ):
        raise ValueError("Exploration goes from 0 to 100.")
    if "retention_months" in changes and int(changes["retention_months"]) not in (
        PrivacySettings.Retention.values
    ):
        raise ValueError("Retention is 0 (keep), 3, 18 or 36 months.")
    changed_settings, changed_profile = [], []
    for field, new in changes.items():
        target = profile if field in PROFILE_FIELDS else settings
        old = getattr(target, field)
        if old == new:
            continue
        setattr(target, field, new)
        (changed_profile if target is profile else changed_settings).append(field)
        consent_event_record(
            profile=profile,
            user_id=profile.user_id,
            kind=ConsentEvent.Kind.SETTING,
            what=field,
            old=_display(old),
            new=_display(new),
        )
    if changed_settings:
        settings.save(update_fields=[*changed_settings, "updated_at"])
    if changed_profile:
        profile.save(update_fields=changed_profile)
    profile.privacy = settings
    return settings


@transaction.atomic
def hidden_genre_set(*, profile: Profile, genre: Genre, hidden: bool) -> bool:
    """Hides a genre from every recommendation of the profile, or shows it again.

    Returns whether anything changed (and was logged).
    """
    settings, _ = PrivacySettings.objects.get_or_create(profile=profile)
    is_hidden = settings.hidden_genres.filter(pk=genre.pk).exists()
    if is_hidden == hidden:
        return False
    if hidden:
        settings.hidden_genres.add(genre)
    else:
        settings.hidden_genres.remove(genre)
    consent_event_record(
        profile=profile,
        user_id=profile.user_id,
        kind=ConsentEvent.Kind.SETTING,
        what=f"hidden genre {genre.name}",
        old=_display(is_hidden),
        new=_display(hidden),
    )
    profile.privacy = settings
    return True
