"""The "Download my data" zip: everything held about one account.

One JSON file per kind of data (a list of rows), a CSV beside each tabular
one, and ``README.txt`` describing every file and field. The parts are
listed once, in :data:`PARTS`; any other table that points at an account or
a profile (a model added later) is found in the app registry and exported
field by field under ``other/``, so nothing held is ever left out.

Derived data is exported too: each profile's taste profile (genres and
weights, inferred from its signals), its stored candidates (titles, scores,
predicted ratings), and the rows its home page shows now, with their reasons.

Writing is plain file work: :func:`export_zip_write` builds the zip under a
temporary name and renames it into place. The service that calls it
(``privacy.services.data_export_build``) owns the status and the row.
"""

import csv
import dataclasses
import functools
import io
import json
import logging
import os
import tempfile
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Profile, User
from activity.models import (
    Feedback,
    ListItem,
    Rating,
    SearchEvent,
    TagApplication,
    ViewingEvent,
)
from catalog.models import Genre, Title
from consent.models import PrivacySettings
from privacy.models import ConsentEvent, DataExport
from recommendations.models import ProfileCandidates, RowEngagement, SeedExclusion

logger = logging.getLogger(__name__)

Row = dict[str, Any]


def export_dir() -> Path:
    """Where export zips live: ``PRIVACY_EXPORT_DIR``, else ``<var>/exports``."""
    configured = getattr(settings, "PRIVACY_EXPORT_DIR", None)
    return Path(configured) if configured else Path(settings.VAR_DIR) / "exports"


# --- which tables hold personal data -------------------------------------------


def personal_models() -> list[type[models.Model]]:
    """Every model with a foreign key, one-to-one or many-to-many table pointing
    at an account or a profile, read from the app registry (so a model added
    later is covered without a change here)."""
    found = []
    for model in apps.get_models(include_auto_created=True):
        if model in (User, Profile) or _owner_fields(model):
            found.append(model)
    return found


def _owner_fields(model: type[models.Model]) -> list[models.Field]:
    return [
        field
        for field in model._meta.concrete_fields
        if field.is_relation and field.related_model in (User, Profile)
    ]


def owned_rows(model: type[models.Model], user: User) -> models.QuerySet:
    """The rows of ``model`` that belong to ``user`` or one of its profiles."""
    if model is User:
        return User.objects.filter(pk=user.pk)
    if model is Profile:
        return Profile.objects.filter(user=user)
    match = Q(pk__in=[])
    for field in _owner_fields(model):
        if field.related_model is User:
            match |= Q(**{field.attname: user.pk})
        else:
            match |= Q(**{f"{field.name}__user": user.pk})
    return model._default_manager.filter(match)


# --- the parts of an export -------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Part:
    """One file of the export (``<name>.json``, and ``<name>.csv`` if tabular)."""

    name: str
    description: str
    fields: dict[str, str]
    rows: Callable[[User], list[Row]]
    model: type[models.Model] | None = None  # the table it holds, for row counts
    tabular: bool = True
    csv_rows: Callable[[list[Row]], list[Row]] | None = None  # flattening


def _profile_names(user: User) -> dict[int, str]:
    return dict(Profile.objects.filter(user=user).values_list("id", "name"))


def _with_profile(rows: Iterable[Row], names: dict[int, str]) -> list[Row]:
    out = []
    for row in rows:
        row = dict(row)
        row["profile"] = names.get(row["profile_id"], "")
        out.append(row)
    return out


def _activity(
    model: type[models.Model], fields: list[str], order: str
) -> Callable[[User], list[Row]]:
    def rows(user: User) -> list[Row]:
        queryset = (
            model._default_manager.filter(profile__user=user)
            .order_by("profile_id", order, "id")
            .values("id", "profile_id", *fields)
        )
        return _with_profile(queryset, _profile_names(user))

    return rows


def _account(user: User) -> list[Row]:
    return [
        {
            "id": user.pk,
            "email": user.email,
            "date_joined": user.date_joined,
            "last_login": user.last_login,
            "source": user.source,
            "is_active": user.is_active,
            "is_staff": user.is_staff,
        }
    ]


def _profiles(user: User) -> list[Row]:
    return list(
        Profile.objects.filter(user=user)
        .order_by("id")
        .values(
            "id",
            "name",
            "is_kids",
            "avatar_color",
            "allow_training",
            "created_at",
            "activity_changed_at",
        )
    )


def _privacy_settings(user: User) -> list[Row]:
    hidden: dict[int, list[str]] = defaultdict(list)
    through = PrivacySettings.hidden_genres.through
    for profile_id, genre in (
        through.objects.filter(privacysettings__profile__user=user)
        .order_by("genre__name")
        .values_list("privacysettings_id", "genre__name")
    ):
        hidden[profile_id].append(genre)
    fields = [*PrivacySettings.CHOICE_FIELDS, "updated_at"]
    rows = PrivacySettings.objects.filter(profile__user=user).order_by("profile_id")
    out = []
    for row in _with_profile(rows.values("profile_id", *fields), _profile_names(user)):
        row["hidden_genres"] = hidden.get(row["profile_id"], [])
        out.append(row)
    return out


def _consent_log(user: User) -> list[Row]:
    return list(
        ConsentEvent.objects.filter(user=user)
        .order_by("created_at", "id")
        .values(
            "id",
            "created_at",
            "kind",
            "what",
            "old_value",
            "new_value",
            "profile_id_at_time",
            "profile_name",
        )
    )


def _exports(user: User) -> list[Row]:
    return list(
        DataExport.objects.filter(user=user)
        .order_by("created_at", "id")
        .values(
            "id",
            "status",
            "created_at",
            "finished_at",
            "expires_at",
            "size",
            "row_counts",
        )
    )


def _candidates(user: User) -> list[Row]:
    stored = list(
        ProfileCandidates.objects.filter(profile__user=user).order_by("profile_id")
    )
    names = _titles({t for c in stored for t in c.title_ids})
    profiles = _profile_names(user)
    return [
        {
            "profile_id": c.profile_id,
            "profile": profiles.get(c.profile_id, ""),
            "model_version": c.model_version_id,
            "updated_at": c.updated_at,
            "titles": [
                {
                    "rank": rank,
                    "title_id": title_id,
                    "title": names.get(title_id, ""),
                    "score": score,
                    "predicted_rating": predicted,
                }
                for rank, (title_id, score, predicted) in enumerate(
                    zip(c.title_ids, c.scores, c.predicted, strict=False), start=1
                )
            ],
        }
        for c in stored
    ]


def _candidates_flat(rows: list[Row]) -> list[Row]:
    return [
        {
            "profile_id": row["profile_id"],
            "profile": row["profile"],
            "model_version": row["model_version"],
            **title,
        }
        for row in rows
        for title in row["titles"]
    ]


def _titles(ids: set[int]) -> dict[int, str]:
    return dict(Title.objects.filter(pk__in=ids).values_list("id", "title"))


def _taste_profiles(user: User) -> list[Row]:
    from privacy.selectors import taste_profile

    out = []
    for profile in Profile.objects.filter(user=user).order_by("id"):
        taste = taste_profile(profile)
        for rank, genre in enumerate(taste.genres, start=1):
            out.append(
                {
                    "profile_id": profile.pk,
                    "profile": profile.name,
                    "rank": rank,
                    "genre": genre.name,
                    "weight": round(genre.weight, 4),
                    "liked_titles": taste.liked_titles,
                    "adventurousness": None
                    if taste.adventurousness is None
                    else round(taste.adventurousness, 4),
                }
            )
    return out


def _rows_shown(user: User) -> list[Row]:
    return [
        {"profile_id": profile.pk, "profile": profile.name, **rows_shown(profile)}
        for profile in Profile.objects.filter(user=user)
        .select_related("privacy")
        .order_by("id")
    ]


def rows_shown(profile: Profile) -> Row:
    """The rows the profile's home page shows now, each with its reason.

    Built by the home page's own row builder
    (``recommendations.rows.home_page``); without it, the stored candidates
    as one row.
    """
    try:
        from recommendations.rows import home_page
    except ImportError:
        home_page = None
    if home_page is not None:
        try:
            page = _plain(home_page(profile=profile))
        except Exception:
            logger.exception("Home rows of profile %s could not be built", profile.pk)
        else:
            return {
                "personalized": page.get("personalized"),
                "note": page.get("note", ""),
                "rows": page.get("rows", []),
            }
    stored = ProfileCandidates.objects.filter(profile=profile).first()
    if stored is None:
        return {"personalized": False, "note": "No candidates yet.", "rows": []}
    ids = stored.title_ids[:40]
    names = _titles(set(ids))
    return {
        "personalized": True,
        "note": "",
        "rows": [
            {
                "name": "Top picks for you",
                "reason": "Your best-scored candidates from the recommendation model.",
                "titles": [{"id": pk, "title": names.get(pk, "")} for pk in ids],
            }
        ],
    }


def _plain(value: Any) -> Any:
    """Row objects as JSON-ready data: titles by id and name, nothing private."""
    if isinstance(value, Title):
        shown = {"id": value.pk, "title": value.title}
        for extra in ("match", "why"):
            if hasattr(value, extra):
                shown[extra] = _plain(getattr(value, extra))
        return shown
    if isinstance(value, Genre):
        return {"id": value.pk, "name": value.name}
    if isinstance(value, models.Model):
        return {"id": value.pk, "name": str(value)}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _plain(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if not f.name.startswith("_")
        }
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, models.QuerySet):
        return [_plain(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "tolist"):  # numpy
        return value.tolist()
    return str(value)


PARTS: tuple[Part, ...] = (
    Part(
        "account",
        "Your account.",
        {
            "id": "The account's number.",
            "email": "The e-mail address you log in with.",
            "date_joined": "When the account was made.",
            "last_login": "Your last log-in.",
            "source": "signup (you signed up), movielens (imported), demo (demo data).",
            "is_active": "Whether the account may log in.",
            "is_staff": "Whether the account may use the admin site.",
        },
        _account,
        User,
    ),
    Part(
        "profiles",
        "Your profiles (who is watching).",
        {
            "id": "The profile's number; other files name it as profile_id.",
            "name": "The profile's name.",
            "is_kids": "A kids profile sees titles for children only.",
            "avatar_color": "The avatar's colour.",
            "allow_training": "Whether its activity may improve recommendations for others.",
            "created_at": "When the profile was made.",
            "activity_changed_at": "Last change to anything its rows are built from.",
        },
        _profiles,
        Profile,
    ),
    Part(
        "privacy_settings",
        "Each profile's privacy choices (a profile missing here has the defaults: "
        "personalization on, nothing paused, contextual signals off, keep activity, "
        "exploration 20, calibration on, no hidden genres).",
        {
            "profile_id": "The profile.",
            "profile": "The profile's name.",
            "personalization": "Rows chosen from your activity (off: everyone's rows).",
            "pause_viewing_history": "While true, plays are not stored.",
            "pause_search_history": "While true, searches are not stored.",
            "contextual_signals": "Device and time of day are stored and used.",
            "retention_months": "Activity older than this many months is deleted (0: kept).",
            "exploration": "0 = familiar, 100 = adventurous.",
            "calibration": "The genre mix of Top picks follows your history's mix.",
            "updated_at": "Last change.",
            "hidden_genres": "Genres never recommended (CSV: separated by ';').",
        },
        _privacy_settings,
        PrivacySettings,
    ),
    Part(
        "ratings",
        "Stars you gave, 0.5 to 5.",
        {
            "id": "The rating's number.",
            "profile_id": "The profile.",
            "profile": "The profile's name.",
            "title_id": "The title's number.",
            "title__title": "The title.",
            "value": "Stars, 0.5 to 5 in halves.",
            "created_at": "When you first rated it.",
            "updated_at": "When you last changed it.",
        },
        _activity(
            Rating,
            ["title_id", "title__title", "value", "created_at", "updated_at"],
            "updated_at",
        ),
        Rating,
    ),
    Part(
        "viewings",
        "Every play you started.",
        {
            "id": "The viewing's number.",
            "profile_id": "The profile.",
            "profile": "The profile's name.",
            "title_id": "The title's number.",
            "title__title": "The title.",
            "started_at": "When the play started.",
            "updated_at": "The last moment it played.",
            "seconds_watched": "Seconds watched.",
            "progress": "How far in, 0 to 1.",
            "device_class": "tv, desktop, mobile or tablet; empty when contextual signals were off.",
            "completed": "Watched to the end.",
            "dismissed": "Removed from Continue Watching.",
        },
        _activity(
            ViewingEvent,
            [
                "title_id",
                "title__title",
                "started_at",
                "updated_at",
                "seconds_watched",
                "progress",
                "device_class",
                "completed",
                "dismissed",
            ],
            "started_at",
        ),
        ViewingEvent,
    ),
    Part(
        "searches",
        "What you searched for.",
        {
            "id": "The search's number.",
            "profile_id": "The profile.",
            "profile": "The profile's name.",
            "query": "The words searched.",
            "created_at": "When.",
        },
        _activity(SearchEvent, ["query", "created_at"], "created_at"),
        SearchEvent,
    ),
    Part(
        "feedback",
        "Thumbs, onboarding picks and “not interested”.",
        {
            "id": "The feedback's number.",
            "profile_id": "The profile.",
            "profile": "The profile's name.",
            "title_id": "The title's number.",
            "title__title": "The title.",
            "kind": "thumbs_up, thumbs_down, not_interested or pick (onboarding).",
            "created_at": "When.",
        },
        _activity(
            Feedback, ["title_id", "title__title", "kind", "created_at"], "created_at"
        ),
        Feedback,
    ),
    Part(
        "my_list",
        "Titles on My List.",
        {
            "id": "The entry's number.",
            "profile_id": "The profile.",
            "profile": "The profile's name.",
            "title_id": "The title's number.",
            "title__title": "The title.",
            "added_at": "When it was added.",
        },
        _activity(ListItem, ["title_id", "title__title", "added_at"], "added_at"),
        ListItem,
    ),
    Part(
        "tag_applications",
        "Tags you put on titles.",
        {
            "id": "The tag's use number.",
            "profile_id": "The profile.",
            "profile": "The profile's name.",
            "title_id": "The title's number.",
            "title__title": "The title.",
            "tag__name": "The tag.",
            "created_at": "When.",
        },
        _activity(
            TagApplication,
            ["title_id", "title__title", "tag__name", "created_at"],
            "created_at",
        ),
        TagApplication,
    ),
    Part(
        "row_engagement",
        "How often you acted on a title reached from each kind of home row "
        "(rows you use more rise on your home page).",
        {
            "id": "The entry's number.",
            "profile_id": "The profile.",
            "profile": "The profile's name.",
            "row_kind": "The kind of row.",
            "count": "How many times.",
            "updated_at": "The last time.",
        },
        _activity(RowEngagement, ["row_kind", "count", "updated_at"], "updated_at"),
        RowEngagement,
    ),
    Part(
        "seed_exclusions",
        "Titles you asked not to base “Because you watched” rows on.",
        {
            "id": "The entry's number.",
            "profile_id": "The profile.",
            "profile": "The profile's name.",
            "title_id": "The title's number.",
            "title__title": "The title.",
            "created_at": "When.",
        },
        _activity(
            SeedExclusion, ["title_id", "title__title", "created_at"], "created_at"
        ),
        SeedExclusion,
    ),
    Part(
        "consent_log",
        "Every privacy setting change, export and erasure on this account.",
        {
            "id": "The entry's number.",
            "created_at": "When.",
            "kind": "setting, export or erasure.",
            "what": "What changed or was erased.",
            "old_value": "Before.",
            "new_value": "After.",
            "profile_id_at_time": "The profile it concerned (empty: the account).",
            "profile_name": "That profile's name at the time.",
        },
        _consent_log,
        ConsentEvent,
    ),
    Part(
        "exports",
        "Your data exports, this one included.",
        {
            "id": "The export's number.",
            "status": "pending, running, ready, failed or expired.",
            "created_at": "When you asked for it.",
            "finished_at": "When it was built.",
            "expires_at": "When its file is deleted.",
            "size": "The zip's size in bytes.",
            "row_counts": "Rows per table in it (JSON; empty while it is built).",
        },
        _exports,
        DataExport,
    ),
    Part(
        "candidates",
        "Derived: each profile's stored candidates, the titles its rows are picked "
        "from, best first (CSV: one line per title).",
        {
            "profile_id": "The profile.",
            "profile": "The profile's name.",
            "model_version": "The model version that scored them.",
            "updated_at": "When they were scored (JSON only).",
            "titles": "The candidates (JSON only): rank, title_id, title, score, "
            "predicted_rating.",
            "rank": "Position, 1 = best (CSV).",
            "title_id": "The title's number (CSV).",
            "title": "The title (CSV).",
            "score": "The ranking score, standardised per profile (CSV).",
            "predicted_rating": "The predicted stars, 0.5 to 5 (CSV).",
        },
        _candidates,
        ProfileCandidates,
        csv_rows=_candidates_flat,
    ),
    Part(
        "taste_profile",
        "Derived: each profile's top genres, inferred from the titles it likes "
        "(rated 3.5 stars or more, finished, thumbs up, picked when the profile "
        "was new); each liked title shares its weight equally among its genres.",
        {
            "profile_id": "The profile.",
            "profile": "The profile's name.",
            "rank": "1 = the genre liked most.",
            "genre": "The genre.",
            "weight": "Its share of the liked titles' genre mix, 0 to 1.",
            "liked_titles": "How many titles the profile likes.",
            "adventurousness": "How spread the liking is over genres, 0 (one genre) "
            "to 1 (all alike); empty with fewer than 3 liked titles.",
        },
        _taste_profiles,
    ),
    Part(
        "rows_shown",
        "Derived: the rows each profile's home page shows now, with the reason for "
        "each (JSON only).",
        {
            "profile_id": "The profile.",
            "profile": "The profile's name.",
            "personalized": "Whether the rows are chosen for the profile.",
            "note": "Why they are not, when they are not.",
            "rows": "The rows, in page order: name, kind, the reason shown, the "
            "seed title of a “Because you…” row, and the titles (id, title, match "
            "percent, why).",
        },
        _rows_shown,
        tabular=False,
    ),
)


def _other_parts() -> list[Part]:
    """Any other table pointing at the account or a profile, exported as it is."""
    known = {part.model for part in PARTS if part.model is not None}
    parts = []
    for model in personal_models():
        if model in known:
            continue
        fields = {
            f.attname: str(getattr(f, "verbose_name", f.name))
            for f in model._meta.concrete_fields
        }

        parts.append(
            Part(
                f"other/{model._meta.app_label}_{model._meta.model_name}",
                f"The table {model._meta.label} ({model._meta.verbose_name}).",
                fields,
                functools.partial(_table_rows, model, tuple(fields)),
                model,
            )
        )
    return parts


def _table_rows(
    model: type[models.Model], fields: tuple[str, ...], user: User
) -> list[Row]:
    return list(owned_rows(model, user).order_by("pk").values(*fields))


def export_parts() -> list[Part]:
    return [*PARTS, *_other_parts()]


# --- writing ----------------------------------------------------------------------


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def _csv_text(rows: list[Row], fields: Iterable[str]) -> str:
    columns = list(dict.fromkeys([*fields, *(k for row in rows for k in row)]))
    columns = [c for c in columns if any(c in row for row in rows)] or list(fields)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_cell(v) for k, v in row.items()})
    return buffer.getvalue()


def _csv_cell(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, default=_json_default, sort_keys=True)
    if value is None:
        return ""
    return value


def _readme(parts: list[Part], user: User, now: datetime) -> str:
    lines = [
        "Marquee: everything we hold about your account",
        "=" * 46,
        "",
        f"Made on {now:%Y-%m-%d %H:%M} UTC for {user.email}.",
        "",
        "Each file NAME.json holds a list of rows (JSON objects); NAME.csv holds the",
        "same rows as a spreadsheet, one line per row (UTF-8, comma-separated, with a",
        "header line). Times are ISO 8601 in UTC. Rows point at a profile by",
        "profile_id (see profiles.json). Files marked 'Derived' are not things you",
        "did but what we worked out from them.",
        "",
    ]
    for part in parts:
        files = f"{part.name}.json" + (f", {part.name}.csv" if part.tabular else "")
        lines += [files, "-" * len(files), part.description, ""]
        width = max((len(f) for f in part.fields), default=0)
        lines += [
            f"  {name.ljust(width)}  {text}" for name, text in part.fields.items()
        ]
        lines.append("")
    return "\n".join(lines) + "\n"


def export_zip_write(
    *,
    user: User,
    path: Path,
    progress: Callable[[int], None] = lambda percent: None,
) -> dict[str, int]:
    """Writes the account's export to ``path`` (atomically); returns rows per table.

    The counts are keyed by model label (``activity.Rating``) and hold the
    rows written for that table. ``progress`` is told the percent done after
    each part.
    """
    parts = export_parts()
    now = timezone.now()
    counts: dict[str, int] = {}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for done, part in enumerate(parts, start=1):
                rows = part.rows(user)
                if part.model is not None:
                    counts[part.model._meta.label] = len(rows)
                archive.writestr(
                    f"{part.name}.json",
                    json.dumps(
                        rows, default=_json_default, indent=2, ensure_ascii=False
                    ),
                )
                if part.tabular:
                    flat = part.csv_rows(rows) if part.csv_rows else rows
                    archive.writestr(f"{part.name}.csv", _csv_text(flat, part.fields))
                progress(int(100 * done / (len(parts) + 1)))
            archive.writestr("README.txt", _readme(parts, user, now))
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return counts
