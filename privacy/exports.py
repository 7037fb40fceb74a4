"""The "Download my data" zip: everything held about one account.

One JSON file per kind of data (a list of rows), a CSV beside each tabular
one, and ``README.txt`` describing every file and field. Each personal table
is exported as its entry in :mod:`privacy.registry` says (a table registered
without a word on it: every column, under ``other/``), so nothing held is
left out.

Derived data is exported too: each profile's taste profile (genres and
weights, inferred from its signals), its stored candidates (titles, scores,
predicted ratings), and the rows its home page shows now, with their reasons.

Writing is plain file work: :func:`export_zip_write` builds the zip under a
temporary name and renames it into place. The service that calls it
(``privacy.services.data_export_build``) owns the status and the row.
"""

import csv
import dataclasses
import io
import json
import logging
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import Profile, User
from catalog.models import Genre, Title
from privacy import export_rows, registry
from privacy.selectors import TASTE_RULE, taste_profile
from recommendations.home.page import home_page
from recommendations.models import ProfileCandidates

logger = logging.getLogger(__name__)

Row = registry.Row


def export_dir() -> Path:
    """Where export zips live: ``settings.PRIVACY_EXPORT_DIR`` (``<var>/exports``
    unless the environment names another)."""
    return Path(settings.PRIVACY_EXPORT_DIR)


# --- the parts of an export -------------------------------------------------------

#: One file of the export; every personal table's is its registry entry's.
Part = registry.Export


def _taste_profiles(user: User) -> list[Row]:
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
                    "your_setting_percent": genre.level,
                    "weight_used": round(genre.used, 4),
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
    (``recommendations.home.page.home_page``); should it fail, the stored
    candidates as one row, so the export is never lost to a rows bug.
    """
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
    names = export_rows.title_names(set(ids))
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


#: Files that are not a table: what we worked out from the data.
DERIVED: tuple[Part, ...] = (
    Part(
        "taste_profile",
        "Derived: each profile's top genres, the genre mix its home rows use, "
        f"inferred from the titles it likes ({TASTE_RULE}); a title in several "
        "genres shares its weight equally among them.",
        {
            "profile_id": "The profile.",
            "profile": "The profile's name.",
            "rank": "1 = the genre liked most.",
            "genre": "The genre.",
            "weight": "Its share of the liked titles' genre mix, 0 to 1.",
            "your_setting_percent": "Your taste slider for it: percent of that "
            "share the rows use (0 off, 100 as you watch, 200 much more).",
            "weight_used": "Its share of the mix your rows use, after your "
            "sliders, 0 to 1.",
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


def export_parts() -> list[Part]:
    """Every registered table's file, then the derived ones."""
    return [*(entry.export for entry in registry.ENTRIES), *DERIVED]


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


#: A spreadsheet takes a cell starting with one of these for a formula (which
#: may fetch a URL or run a command when the file is opened): "CSV injection".
CSV_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: Any) -> Any:
    """``value`` as a CSV cell; text that a spreadsheet would take for a
    formula gets a leading ``'`` (numbers, negative ones too, stay numbers)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        value = ";".join(str(v) for v in value)
    elif isinstance(value, dict):
        value = json.dumps(value, default=_json_default, sort_keys=True)
    elif value is None:
        return ""
    if isinstance(value, str) and value.startswith(CSV_FORMULA_STARTS):
        return "'" + value
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
