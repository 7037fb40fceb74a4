"""Every write of the privacy app: settings changes (each logged as a
ConsentEvent in the same transaction), exports, erasure and retention."""

import calendar
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.db import models, transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import AccountErasureInProgress, Profile, User
from accounts.services import login_lockout_clear, profile_touch
from activity.services import REFRESH_PROFILE_TASK
from catalog.importers.movielens import read_users
from catalog.models import Genre
from consent import policy
from consent.context import REGIONS, WEATHER_CHOICES, region_of_zip
from consent.models import PrivacySettings
from consent.policy import (
    PRIVATE_SESSION_KEY,
    private_session_profile_ids,
    taste_levels,
)
from outbox.services import outbox_add
from privacy import exports, registry
from privacy.models import ConsentEvent, DataExport, ErasureReceipt
from recommendations import tasks as recommendation_tasks
from recommendations.engine import taste
from recommendations.home.cache import pages_forget
from recommendations.models import ProfileCandidates
from recommendations.services import experiments
from recommendations.services.forget import model_versions_holding

logger = logging.getLogger(__name__)

#: Named, not imported: ``privacy.tasks`` imports this module.
BUILD_EXPORT_TASK = "privacy.tasks.build_export"

#: Settings a viewer changes with a toggle or a choice; ``allow_training``
#: lives on the profile itself.
SETTING_FIELDS = PrivacySettings.CHOICE_FIELDS
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
    A change touches the profile, so its home rows are rebuilt on the next
    page, and a shortened retention window deletes the older activity at once.
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
    if changes.get("region") and changes["region"] not in REGIONS:
        raise ValueError("There is no such region.")
    if changes.get("weather_today") and changes["weather_today"] not in dict(
        WEATHER_CHOICES
    ):
        raise ValueError("There is no such weather.")
    old_retention = settings.retention_months
    changed_settings, changed_profile = [], []
    # A control the viewer sets itself is its own from now on: no test's arm
    # nor the site's default overrides it (``experiments.effective_tuning``).
    own = [c for c in experiments.OWN_CHOICES if c in changes]
    if own and not set(own) <= set(settings.own_choices or ()):
        settings.own_choices = sorted({*(settings.own_choices or ()), *own})
        changed_settings.append("own_choices")
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
    if "weather_today" in changes and (
        "weather_today" in changed_settings
        or settings.weather_declared_on != timezone.localdate()
    ):
        # Declared for today only: another day it is ignored (home context).
        settings.weather_declared_on = timezone.localdate()
        changed_settings.append("weather_declared_on")
    if changed_settings:
        settings.save(update_fields=[*changed_settings, "updated_at"])
    if changed_profile:
        profile.save(update_fields=changed_profile)
    profile.privacy = settings
    if changed_settings or changed_profile:
        profile_touch(profile_id=profile.pk)
    if "personalization" in changed_settings and settings.personalization:
        # Back from the non-profiling mode: fold in what was kept meanwhile.
        outbox_add(task=REFRESH_PROFILE_TASK, args=[profile.pk], coalesce=True)
    if "experiments" in changed_settings and not settings.experiments:
        # Left tests: never assigned again, and the record of its arms goes.
        experiments.assignments_forget(profile_id=profile.pk)
    if _retention_shortened(old_retention, settings.retention_months):
        retention_purge_profile(profile=profile)
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


# --- the taste sliders: the viewer's own weights for its genres ------------------


def _level_words(level: int) -> str:
    return f"{level}% ({taste.LEVELS.get(level, 'custom').lower()})"


@dataclass(frozen=True)
class TasteChange:
    """One genre's weight changed on the taste sliders (what R1's receipts
    and the centre's message read)."""

    genre: str
    old: int
    new: int


@transaction.atomic
def taste_levels_set(*, profile: Profile, levels: dict[int, int]) -> list[TasteChange]:
    """Sets how much of each given genre the profile's rows use, in percent of
    what its history says (``engine.taste.LEVELS``: 0 off … 200 much more).

    Each genre whose level changes is logged; the rows follow at once (the
    settings' ``updated_at`` and the profile's touch key the cached rows).
    An unknown genre or a level not in ``LEVELS`` raises ``ValueError`` and
    nothing changes. Returns the changes, by genre name.
    """
    if any(level not in taste.LEVELS for level in levels.values()):
        raise ValueError(
            "A genre's weight is one of "
            + ", ".join(f"{n}" for n in taste.LEVELS)
            + " (percent)."
        )
    names = dict(Genre.objects.filter(pk__in=levels).values_list("pk", "name"))
    if len(names) != len(levels):
        raise ValueError("There is no such genre.")
    settings, _ = PrivacySettings.objects.select_for_update().get_or_create(
        profile=profile
    )
    current = taste_levels(settings)
    changes = []
    for genre_id, new in sorted(levels.items(), key=lambda item: names[item[0]]):
        old = current.get(genre_id, taste.DEFAULT_LEVEL)
        if old == new:
            continue
        if new == taste.DEFAULT_LEVEL:
            current.pop(genre_id, None)
        else:
            current[genre_id] = new
        changes.append(TasteChange(names[genre_id], old, new))
        consent_event_record(
            profile=profile,
            user_id=profile.user_id,
            kind=ConsentEvent.Kind.SETTING,
            what=f"taste: {names[genre_id]}"[:80],
            old=_level_words(old),
            new=_level_words(new),
        )
    if changes:
        settings.taste_adjustments = {str(g): v for g, v in sorted(current.items())}
        settings.save(update_fields=["taste_adjustments", "updated_at"])
        profile_touch(profile_id=profile.pk)
    profile.privacy = settings
    return changes


@transaction.atomic
def taste_levels_reset(*, profile: Profile) -> int:
    """“Reset to what you do”: every genre back to its history's weight.

    Logged as one change (what each genre was set to, before); returns how
    many genres it put back (0: nothing was adjusted, nothing logged).
    """
    settings, _ = PrivacySettings.objects.select_for_update().get_or_create(
        profile=profile
    )
    current = taste_levels(settings)
    if current or settings.taste_adjustments:
        names = dict(Genre.objects.filter(pk__in=current).values_list("pk", "name"))
        before = "; ".join(
            sorted(
                f"{names.get(g, f'genre {g}')} {_level_words(v)}"
                for g, v in current.items()
            )
        )
        settings.taste_adjustments = {}
        settings.save(update_fields=["taste_adjustments", "updated_at"])
        consent_event_record(
            profile=profile,
            user_id=profile.user_id,
            kind=ConsentEvent.Kind.SETTING,
            what="taste: reset to what you do",
            old=before,
            new="every genre as you watch",
        )
        profile_touch(profile_id=profile.pk)
    profile.privacy = settings
    return len(current)


# --- the privacy centre's controls (what follows a change, at once) -------------


def _retention_shortened(old: int, new: int) -> bool:
    """A window that now keeps less: "keep" (0) to any, or fewer months."""
    return new != 0 and (old == 0 or new < old)


@transaction.atomic
def hidden_genres_replace(*, profile: Profile, genres: list[Genre]) -> int:
    """Makes exactly ``genres`` the profile's hidden genres.

    Each genre hidden or shown again is logged; returns how many changed.
    """
    settings, _ = PrivacySettings.objects.get_or_create(profile=profile)
    wanted = {genre.pk: genre for genre in genres}
    current = {genre.pk: genre for genre in settings.hidden_genres.all()}
    changed = 0
    for pk, genre in sorted({**current, **wanted}.items()):
        if (pk in wanted) != (pk in current):
            changed += hidden_genre_set(
                profile=profile, genre=genre, hidden=pk in wanted
            )
    if changed:
        profile_touch(profile_id=profile.pk)
    profile.privacy = settings
    return changed


@transaction.atomic
def private_session_set(*, session: Any, profile: Profile, on: bool) -> bool:
    """Turns this browser session's private mode for the profile on or off.

    While on, no play or search of the profile is stored from this session
    (see :func:`consent.policy.private_session_on`). Kept in the session,
    so it ends at sign-out; the change is logged. Returns whether it changed.
    """
    ids = private_session_profile_ids(session)
    was_on = profile.pk in ids
    if was_on == on:
        return False
    ids = ids | {profile.pk} if on else ids - {profile.pk}
    session[PRIVATE_SESSION_KEY] = sorted(ids)
    consent_event_record(
        profile=profile,
        user_id=profile.user_id,
        kind=ConsentEvent.Kind.SETTING,
        what="private_session",
        old=_display(was_on),
        new=_display(on),
    )
    return True


@transaction.atomic
def non_profiling_set(
    *, profile: Profile, on: bool, keep_plays: bool = False
) -> PrivacySettings:
    """The home page's switch: rows not based on the profile's activity.

    On: personalized rows off (:mod:`consent.policy`: everyone's rows, no
    search, row engagement or device kept, nothing learnt) and viewing history
    paused unless ``keep_plays`` (plays kept only so Continue watching can
    resume them). Off: personalized rows and viewing history on again (the
    candidates are refreshed, :func:`privacy_settings_update`). Each change
    is a line of the consent log.
    """
    was_on = not policy.profiling_on(profile)
    if on:
        changes = {"personalization": False, "pause_viewing_history": not keep_plays}
    elif was_on:
        changes = {"personalization": True, "pause_viewing_history": False}
    else:
        changes = {"personalization": True}
    return privacy_settings_update(profile=profile, **changes)


# --- shared by export, erasure and retention ---------------------------------------

#: Every kind of data a profile can erase as a whole, by name (the registry's
#: categories). Retention deletes the rows of each ``retained`` one whose
#: latest activity (``time_field``) is older than the window.
CATEGORIES = registry.CATEGORIES


class ErasureRefused(Exception):
    """An erasure that may not run (say, the account's last profile)."""


def _exports_discard(*, user_id: int, note: str) -> list[str]:
    """Takes the account's export files out of use; returns their paths.

    Built ones are marked expired; ones being built are cancelled (their
    task then throws its file away). The caller deletes the files on commit.
    """
    files = []
    for export in DataExport.objects.select_for_update().filter(
        user_id=user_id,
        status__in=[
            DataExport.Status.PENDING,
            DataExport.Status.RUNNING,
            DataExport.Status.READY,
        ],
    ):
        if export.file:
            files.append(export.file)
        export.status = (
            DataExport.Status.EXPIRED
            if export.status == DataExport.Status.READY
            else DataExport.Status.FAILED
        )
        export.file, export.size, export.error = "", 0, note
        export.save(update_fields=["status", "file", "size", "error"])
    return files


def _unlink_on_commit(paths: list[str]) -> None:
    def unlink() -> None:
        for path in paths:
            try:
                Path(path).unlink(missing_ok=True)
            except OSError:
                logger.exception("Could not delete export file %s", path)

    if paths:
        transaction.on_commit(unlink)


def _after_erasure(
    *,
    user_id: int,
    profile_ids: list[int],
    refresh: bool,
    drop_candidates: bool,
    forget: bool = True,
) -> None:
    """What follows any erasure, in the erasing transaction or on its commit.

    The profiles' cached home pages are deleted and their keys move on; the
    stored candidates (built from the erased data) go at once and are rebuilt
    by fold-in without it; exports holding it are deleted; the profiles' rows
    leave every model file (with ``forget``).
    """
    for profile_id in profile_ids:
        profile_touch(profile_id=profile_id)
    transaction.on_commit(lambda: pages_forget(profile_ids=list(profile_ids)))
    if drop_candidates:
        ProfileCandidates.objects.filter(profile_id__in=profile_ids).delete()
    _unlink_on_commit(_exports_discard(user_id=user_id, note=EXPORT_CANCELLED))
    if refresh:
        for profile_id in profile_ids:
            outbox_add(task=REFRESH_PROFILE_TASK, args=[profile_id], coalesce=True)
    if forget and profile_ids:
        outbox_add(task=recommendation_tasks.model_forget, args=[list(profile_ids)])


def _category(name: str) -> registry.PersonalData:
    try:
        return CATEGORIES[name]
    except KeyError:
        raise ValueError(
            f"Unknown category “{name}”; one of {', '.join(CATEGORIES)}."
        ) from None


# --- export ---------------------------------------------------------------------------

#: Why an export was taken away by an erasure (such exports do not count
#: towards the daily limit).
EXPORT_CANCELLED = "Deleted by an erasure: it held erased data."
#: A build still waiting or running after this long was lost (its message or
#: its worker); it is marked failed and does not count towards the limit.
EXPORT_STALE_AFTER = timedelta(minutes=30)
EXPORT_LOST = "Lost while it was built; please ask again."


class ExportLimitReached(Exception):
    """More than :attr:`DataExport.MAX_PER_DAY` exports within a day."""

    def __init__(self, *, retry_at: datetime) -> None:
        self.retry_at = retry_at
        super().__init__(
            f"You can ask for {DataExport.MAX_PER_DAY} exports a day; "
            f"the next one can be made from {retry_at:%Y-%m-%d %H:%M} UTC."
        )


@transaction.atomic
def data_export_request(*, user: User) -> DataExport:
    """Asks for a zip of everything held about the account; built by a task.

    An export already waiting or building is returned instead of a new one.
    At most :attr:`DataExport.MAX_PER_DAY` in any 24 hours
    (:class:`ExportLimitReached`). Logged in the consent log.
    """
    User.objects.select_for_update().filter(pk=user.pk).first()
    now = timezone.now()
    _exports_mark_lost(now=now, user=user)
    busy = DataExport.objects.filter(
        user=user,
        status__in=[DataExport.Status.PENDING, DataExport.Status.RUNNING],
    ).first()
    if busy is not None:
        return busy
    recent = list(
        DataExport.objects.filter(user=user, created_at__gt=now - timedelta(days=1))
        .exclude(error__in=[EXPORT_CANCELLED, EXPORT_LOST])
        .order_by("created_at")
        .values_list("created_at", flat=True)
    )
    if len(recent) >= DataExport.MAX_PER_DAY:
        raise ExportLimitReached(
            retry_at=recent[-DataExport.MAX_PER_DAY] + timedelta(days=1)
        )
    export = DataExport.objects.create(user=user, created_at=now)
    consent_event_record(
        profile=None,
        user_id=user.pk,
        kind=ConsentEvent.Kind.EXPORT,
        what="data export requested",
        new=f"export {export.pk}",
    )
    outbox_add(task=BUILD_EXPORT_TASK, args=[export.pk])
    return export


def _exports_mark_lost(*, now: datetime, user: User | None = None) -> int:
    """Marks exports waiting or building for too long as failed."""
    lost = DataExport.objects.filter(
        status__in=[DataExport.Status.PENDING, DataExport.Status.RUNNING],
        created_at__lt=now - EXPORT_STALE_AFTER,
    )
    if user is not None:
        lost = lost.filter(user=user)
    return lost.update(
        status=DataExport.Status.FAILED, error=EXPORT_LOST, finished_at=now
    )


def data_export_build(*, export_id: int) -> DataExport | None:
    """Builds a requested export's zip; safe to run twice.

    Only a waiting export is built (a redelivered task finds it running or
    done and stops); progress is saved as it goes. The file is kept only if the export still wants it when
    done (an erasure may have cancelled it meanwhile).
    """
    claimed = DataExport.objects.filter(
        pk=export_id, status=DataExport.Status.PENDING
    ).update(status=DataExport.Status.RUNNING, progress=0)
    if not claimed:
        logger.info("Export %s is not waiting to be built; skipped.", export_id)
        return None
    export = DataExport.objects.select_related("user").get(pk=export_id)
    path = exports.export_dir() / f"export-{export.pk}-{secrets.token_hex(12)}.zip"

    def progress(percent: int) -> None:
        DataExport.objects.filter(
            pk=export_id, status=DataExport.Status.RUNNING
        ).update(progress=min(percent, 99))

    try:
        counts = exports.export_zip_write(
            user=export.user, path=path, progress=progress
        )
    except Exception as exc:
        path.unlink(missing_ok=True)
        logger.exception("Export %s failed", export_id)
        DataExport.objects.filter(
            pk=export_id, status=DataExport.Status.RUNNING
        ).update(
            status=DataExport.Status.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:500],
            finished_at=timezone.now(),
        )
        return None
    finished = timezone.now()
    with transaction.atomic():
        export = (
            DataExport.objects.select_for_update()
            .filter(pk=export_id, status=DataExport.Status.RUNNING)
            .first()
        )
        if export is None:
            transaction.on_commit(lambda: path.unlink(missing_ok=True))
            return None
        export.status = DataExport.Status.READY
        export.progress = 100
        export.file = str(path)
        export.size = path.stat().st_size
        export.row_counts = counts
        export.finished_at = finished
        export.expires_at = finished + timedelta(days=DataExport.LIFETIME_DAYS)
        export.save()
    return export


def exports_expire(*, now: datetime | None = None) -> int:
    """Deletes the files of exports past their expiry and marks them expired.

    Also marks builds lost for :data:`EXPORT_STALE_AFTER` as failed, and
    removes files in the export folder that no export names any more (left
    by a crash) once they are a day old. Returns how many exports expired.
    """
    now = now or timezone.now()
    _exports_mark_lost(now=now)
    expired = 0
    for export in DataExport.objects.filter(
        status=DataExport.Status.READY, expires_at__lte=now
    ):
        with transaction.atomic():
            done = DataExport.objects.filter(
                pk=export.pk, status=DataExport.Status.READY
            ).update(status=DataExport.Status.EXPIRED, file="", size=0)
            if done:
                expired += 1
                _unlink_on_commit([export.file] if export.file else [])
    folder = exports.export_dir()
    if folder.is_dir():
        named = {
            Path(p).name
            for p in DataExport.objects.exclude(file="").values_list("file", flat=True)
        }
        old = (now - timedelta(days=1)).timestamp()
        for path in folder.iterdir():
            if path.is_file() and path.name not in named and path.stat().st_mtime < old:
                logger.info("Removing stray export file %s", path)
                path.unlink(missing_ok=True)
    return expired


# --- erasure --------------------------------------------------------------------------


@dataclass(frozen=True)
class ErasedItem:
    """What :func:`erase_item` erased: its kind, and the row as it was."""

    kind: registry.Item
    row: models.Model


@transaction.atomic
def erase_item(*, profile: Profile, kind: str, item_id: int) -> ErasedItem:
    """Erases one row of the profile's data, whichever page or API asks.

    ``kind`` is one of :data:`privacy.registry.ITEMS` (or a name of
    :data:`privacy.registry.LEGACY_ITEM_KINDS`). One outcome, whoever calls:
    the row is deleted, the consent log names it by its one kind name, the
    profile's home rows are rebuilt and its cached pages forgotten, and the
    exports holding it are deleted. A signal that recommendations learn from
    (a rating, play, thumb, hidden title or pick) also drops the profile's
    candidates, refreshes them without it and leaves the model files.

    Raises ``ValueError`` for an unknown kind and the model's ``DoesNotExist``
    when the profile has no such row.
    """
    entry, item = registry.item_kind(kind)
    row = entry.rows_of_profile(profile).get(pk=item_id, **entry.item_filter(item))
    item = item or entry.item_of(row)
    row.delete()
    consent_event_record(
        profile=profile,
        user_id=profile.user_id,
        kind=ConsentEvent.Kind.ERASURE,
        what=f"one {item.name} erased",
        new=f"{item.name} {item_id}",
    )
    _after_erasure(
        user_id=profile.user_id,
        profile_ids=[profile.pk],
        refresh=entry.signal,
        drop_candidates=entry.signal,
        forget=entry.signal,
    )
    return ErasedItem(kind=item, row=row)


@transaction.atomic
def erase_category(*, profile: Profile, category: str) -> int:
    """Erases every row of one kind of the profile's activity; returns how many.

    As for one item (:func:`erase_item`): a kind recommendations learn from
    (``signal``) also drops the profile's candidates, refreshes them without
    it and leaves the model files; any other (searches, impressions…) only
    goes, with the cached pages and exports that hold it.
    """
    entry = _category(category)
    model = entry.model
    _, per_model = model._default_manager.filter(profile=profile).delete()
    count = per_model.get(model._meta.label, 0)
    consent_event_record(
        profile=profile,
        user_id=profile.user_id,
        kind=ConsentEvent.Kind.ERASURE,
        what=f"all {CATEGORIES[category].label} erased",
        new=f"{count} rows",
    )
    _after_erasure(
        user_id=profile.user_id,
        profile_ids=[profile.pk],
        refresh=entry.signal,
        drop_candidates=entry.signal,
        forget=entry.signal,
    )
    return count


def _counts(user: User, profile: Profile | None = None) -> dict[str, int]:
    """Rows held per table (model label), for the account or one profile."""
    counts = {}
    for entry in registry.ENTRIES:
        rows = (
            entry.rows_of(user) if profile is None else entry.rows_of_profile(profile)
        )
        if count := rows.count():
            counts[entry.model._meta.label] = count
    return counts


@transaction.atomic
def erase_profile(*, profile: Profile) -> dict[str, int]:
    """Erases a profile and everything held about it; returns rows per table.

    The account's last profile cannot go on its own (:class:`ErasureRefused`):
    erase the account instead. The consent log keeps a line naming the
    profile, since the log belongs to the account.
    """
    User.objects.select_for_update().filter(pk=profile.user_id).first()
    if Profile.objects.filter(user_id=profile.user_id).count() <= 1:
        raise ErasureRefused(
            "This is the account's only profile: erase the whole account instead."
        )
    counts = _counts(profile.user, profile)
    consent_event_record(
        profile=profile,
        user_id=profile.user_id,
        kind=ConsentEvent.Kind.ERASURE,
        what="profile erased",
        old=profile.name,
        new=f"{sum(counts.values())} rows",
    )
    profile_id, user_id = profile.pk, profile.user_id
    profile.delete()
    _after_erasure(
        user_id=user_id, profile_ids=[profile_id], refresh=False, drop_candidates=False
    )
    return counts


@transaction.atomic
def erase_account(*, user: User) -> ErasureReceipt:
    """Erases the account and everything held about it, consent log included.

    The consent log may be deleted only while an
    :class:`AccountErasureInProgress` row for the account exists in this same
    transaction (a database trigger checks). What is left is an anonymous
    receipt: when, what kinds of data and how many rows, and which model
    versions had a vector of the account's profiles (removed from their files
    on commit). The caller logs the person out.
    """
    User.objects.select_for_update().filter(pk=user.pk).first()
    user_id = user.pk
    AccountErasureInProgress.objects.get_or_create(user_id=user_id)
    profile_ids = list(Profile.objects.filter(user=user).values_list("id", flat=True))
    versions = model_versions_holding(profile_ids=profile_ids)
    counts = _counts(user)
    files = [
        f
        for f in DataExport.objects.filter(user=user).values_list("file", flat=True)
        if f
    ]
    login_lockout_clear(user=user)
    user.delete()
    AccountErasureInProgress.objects.filter(user_id=user_id).delete()
    receipt = ErasureReceipt.objects.create(
        scope="account",
        row_counts=counts,
        model_versions=versions,
        reference=secrets.token_hex(10),
    )
    _unlink_on_commit(files)
    if profile_ids:
        transaction.on_commit(lambda: pages_forget(profile_ids=list(profile_ids)))
        outbox_add(task=recommendation_tasks.model_forget, args=[list(profile_ids)])
    return receipt


# --- retention ------------------------------------------------------------------------


def months_before(moment: datetime, months: int) -> datetime:
    """The same time ``months`` calendar months earlier (the day clamped to the
    month's length: 31 May minus 3 months is 28 or 29 February)."""
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def _retention_purge(profile: Profile, now: datetime | None) -> dict[str, int]:
    settings = PrivacySettings.objects.filter(profile=profile).first()
    months = settings.retention_months if settings else 0
    if not months:
        return {}
    cutoff = months_before(now or timezone.now(), months)
    counts = {}
    for name, category in CATEGORIES.items():
        if not category.retained:
            continue
        model = category.model
        _, per_model = (
            model._default_manager.filter(profile=profile)
            .filter(**{f"{category.time_field}__lt": cutoff})
            .delete()
        )
        if per_model.get(model._meta.label):
            counts[name] = per_model[model._meta.label]
    if counts:
        consent_event_record(
            profile=profile,
            user_id=profile.user_id,
            kind=ConsentEvent.Kind.ERASURE,
            what=f"activity older than {months} months auto-deleted",
            new=", ".join(f"{n} {name}" for name, n in counts.items()),
        )
        profile_touch(profile_id=profile.pk)
        outbox_add(
            task=recommendation_tasks.refresh_profile, args=[profile.pk], coalesce=True
        )
    return counts


@transaction.atomic
def retention_purge_profile(
    *, profile: Profile, now: datetime | None = None
) -> dict[str, int]:
    """Deletes the profile's activity older than its retention window.

    Every kind of activity in :data:`CATEGORIES` is aged by its latest
    activity time. Returns rows deleted per category (empty when it keeps
    everything or nothing is that old). Called at once when the window is
    shortened, and daily for every profile by :func:`retention_purge`.
    """
    counts = _retention_purge(profile, now)
    if counts:
        outbox_add(task=recommendation_tasks.model_forget, args=[[profile.pk]])
    return counts


def retention_purge(*, now: datetime | None = None) -> dict[int, dict[str, int]]:
    """:func:`retention_purge_profile` for every profile with a window; the
    profiles' model rows are forgotten in one go afterwards."""
    now = now or timezone.now()
    purged = {}
    for profile in Profile.objects.filter(privacy__retention_months__gt=0).order_by(
        "id"
    ):
        with transaction.atomic():
            counts = _retention_purge(profile, now)
        if counts:
            purged[profile.pk] = counts
    if purged:
        outbox_add(task=recommendation_tasks.model_forget, args=[list(purged)])
    return purged


# --- the demo: regions seeded from MovieLens demographics ---------------------------


@dataclass(frozen=True)
class RegionSeedReport:
    users: int  # users with a zip code in the files
    profiles: int  # imported profiles that now share a region
    regions: dict[str, int]  # region code → profiles


def demo_regions_seed(*, folder: Path, source: str | None = None) -> RegionSeedReport:
    """Gives the imported viewers of a MovieLens folder (ml-100k, ml-1m) the
    region of their zip code, with "My region" on, as if each had declared it
    (each change in their consent log), so the demo has "Popular in …" rows.

    Only the viewers ``import_movielens`` created from the same folder (the
    same ``source``) are touched; sets without demographics seed nothing.
    """
    source = slugify(source or folder.resolve().name) or "movielens"
    wanted = {}
    for row in read_users(folder):
        code = region_of_zip(row.zip_code)
        if code is not None:
            wanted[f"{source}-{row.user_id}@movielens.invalid"] = code
    profiles = Profile.objects.filter(
        user__email__in=list(wanted), user__source=User.Source.MOVIELENS
    ).select_related("user", "privacy")
    regions: dict[str, int] = {}
    for profile in profiles:
        code = wanted[profile.user.email]
        privacy_settings_update(profile=profile, location=True, region=code)
        regions[code] = regions.get(code, 0) + 1
    return RegionSeedReport(
        users=len(wanted), profiles=sum(regions.values()), regions=regions
    )
