"""The admin's take-rate page: impressions, takes and take rates (95 % over
profiles) per kind of row, place in the row, row on the page and model
version, for the last 7, 30 or 90 days; staff only."""

import re
import uuid
from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from activity.models import Impression
from recommendations.engine.online import take_rate
from tests.factories import ProfileFactory, TitleFactory, UserFactory

pytestmark = pytest.mark.django_db

PAGE = "/admin/recommendations/take-rate/"


def card(profile, *, kind, row, position, version=None, taken=False, days_ago=0):
    at = timezone.now() - timedelta(days=days_ago, minutes=1)
    return Impression(
        profile=profile,
        page_view=uuid.uuid4(),
        shown_at=at,
        row_kind=kind,
        row_position=row,
        title=TitleFactory(),
        position=position,
        model_version_id=version,
        taken_at=at if taken else None,
        take="play" if taken else "",
    )


@pytest.fixture
def shown(db):
    """Three profiles' cards; one old card outside 7 days but inside 30."""
    ada, bea, cy = ProfileFactory(), ProfileFactory(), ProfileFactory()
    Impression.objects.bulk_create(
        [
            # ada: 4 Top picks cards (1 taken), 1 Trending card (taken)
            card(ada, kind="top-picks", row=0, position=0, version=5, taken=True),
            card(ada, kind="top-picks", row=0, position=1, version=5),
            card(ada, kind="top-picks", row=0, position=4, version=5),
            card(ada, kind="top-picks", row=0, position=12, version=5),
            card(ada, kind="trending", row=1, position=2, taken=True),
            # bea: 2 Top picks cards (none taken), 2 Trending (1 taken)
            card(bea, kind="top-picks", row=0, position=0, version=6),
            card(bea, kind="top-picks", row=0, position=2, version=6),
            card(bea, kind="trending", row=1, position=0, taken=True),
            card(bea, kind="trending", row=1, position=7),
            # cy: one Trending card 10 days ago, taken
            card(cy, kind="trending", row=2, position=0, taken=True, days_ago=10),
        ]
    )
    return ada, bea, cy


def figures(page: str, table: str) -> dict[str, dict[str, str]]:
    """A table of the page: group → figure → text."""
    section = re.search(
        rf'<section [^>]*id="take-rate-{table}".*?</section>', page, re.S
    )[0]
    out = {}
    for group, cells in re.findall(
        r'<tr data-group="([^"]*)">(.*?)</tr>', section, re.S
    ):
        out[group] = dict(re.findall(r'data-figure="(\w+)">([^<]*)<', cells))
    return out


def percent(value: float) -> str:
    return f"{value:.1%}"


def test_the_figures_are_a_hand_count(admin_client, shown):
    page = admin_client.get(PAGE, {"days": 7}).content.decode()

    kinds = figures(page, "row_kind")
    top = kinds["top-picks"]
    assert (top["impressions"], top["takes"], top["profiles"]) == ("6", "1", "2")
    assert top["rate"] == "16.7%"  # 1 / 6
    # Per profile (ada 1 of 4, bea 0 of 2), the engine's interval.
    expected = take_rate(np.array([1, 0]), np.array([4, 2]))
    assert kinds["top-picks"]["interval"] == (
        f"{percent(expected.low)} – {percent(expected.high)}"
    )
    assert (kinds["trending"]["impressions"], kinds["trending"]["takes"]) == ("3", "2")
    assert kinds["trending"]["rate"] == "66.7%"

    bands = figures(page, "position")
    assert {b: (f["impressions"], f["takes"]) for b, f in bands.items()} == {
        "1": ("3", "2"),  # positions 0: ada top, bea top, bea trending
        "2–3": ("3", "1"),  # 1, 2 (ada trending, taken), 2
        "4–6": ("1", "0"),  # 4
        "7–10": ("1", "0"),  # 7
        "11–20": ("1", "0"),  # 12
    }
    rows = figures(page, "row_position")
    assert {r: f["impressions"] for r, f in rows.items()} == {"0": "6", "1": "3"}
    assert '<th scope="row">1</th>' in page  # row 0 is shown as the first
    versions = figures(page, "model_version")
    assert {v: (f["impressions"], f["takes"]) for v, f in versions.items()} == {
        "6": ("2", "0"),
        "5": ("4", "1"),
        "None": ("3", "2"),
    }


def test_a_longer_period_counts_older_cards(admin_client, shown):
    week = admin_client.get(PAGE, {"days": 7}).content.decode()
    month = admin_client.get(PAGE).content.decode()  # 30 days by default

    assert figures(week, "row_kind")["trending"]["profiles"] == "2"
    assert figures(month, "row_kind")["trending"]["profiles"] == "3"
    assert figures(month, "row_kind")["trending"]["rate"] == "75.0%"
    assert 'aria-current="page">30 days' in month


def test_an_unknown_period_is_a_400(admin_client, shown):
    response = admin_client.get(PAGE, {"days": "365"})

    assert response.status_code == 400
    assert "Choose a period of 7, 30 or 90 days." in response.content.decode()


def test_no_impressions_yet_is_said(admin_client, db):
    page = admin_client.get(PAGE).content.decode()

    assert page.count("No cards shown in this period.") == 4


def test_only_staff_see_it_and_the_admin_links_to_it(client, db, admin_client):
    client.force_login(UserFactory(email="viewer@example.com"))
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response.url.startswith("/admin/login/")

    client.logout()
    assert client.get(PAGE).url.startswith("/admin/login/")

    assert f'href="{PAGE}"' in admin_client.get("/admin/").content.decode()
    models = admin_client.get("/admin/recommendations/modelversion/")
    assert f'href="{PAGE}"' in models.content.decode()
