"""The export's CSV files cannot run a formula in a spreadsheet: a text cell
starting with = + - @ or a tab or carriage return gets a leading ' (issue #13,
point 6). The JSON beside it keeps the text as it was."""

import csv
import io
import json
import zipfile
from pathlib import Path

import pytest

from accounts.models import Profile
from activity.models import SearchEvent
from catalog.models import Title
from privacy.exports import export_zip_write
from tests.factories import RatingFactory

HOSTILE = [
    '=HYPERLINK("x")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1)",
    "\tTAB",
    "\rCR",
]


def export_of(profile: Profile, tmp_path: Path) -> zipfile.ZipFile:
    path = tmp_path / "export.zip"
    export_zip_write(user=profile.user, path=path)
    return zipfile.ZipFile(path)


def csv_rows(archive: zipfile.ZipFile, name: str) -> list[dict]:
    text = archive.read(f"{name}.csv").decode()
    return list(csv.DictReader(io.StringIO(text, newline="")))


@pytest.mark.parametrize("query", HOSTILE)
def test_a_search_that_looks_like_a_formula_is_exported_as_text(
    profile: Profile, tmp_path: Path, query: str
) -> None:
    SearchEvent.objects.create(profile=profile, query=query)

    archive = export_of(profile, tmp_path)

    assert [row["query"] for row in csv_rows(archive, "searches")] == ["'" + query]
    assert [row["query"] for row in json.loads(archive.read("searches.json"))] == [
        query
    ]


def test_a_profile_name_that_looks_like_a_formula_is_exported_as_text(
    profile: Profile, tmp_path: Path
) -> None:
    profile.name = "=1+1"
    profile.save()

    archive = export_of(profile, tmp_path)

    assert [row["name"] for row in csv_rows(archive, "profiles")] == ["'=1+1"]


def test_ordinary_text_and_numbers_are_exported_unchanged(
    profile: Profile, title: Title, tmp_path: Path
) -> None:
    SearchEvent.objects.create(profile=profile, query="heat 1995 - Mann")
    RatingFactory(profile=profile, title=title, value=4.5)

    archive = export_of(profile, tmp_path)

    assert [row["query"] for row in csv_rows(archive, "searches")] == [
        "heat 1995 - Mann"
    ]
    assert [row["value"] for row in csv_rows(archive, "ratings")] == ["4.5"]
