"""Titles nobody has watched yet: a curator's new title reaches the viewers
whose taste it fits, flagged "New"; ``evaluate --cold-titles`` measures the
content model that places them."""

import html
import io
import json
import re
from collections import defaultdict

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from accounts.models import Profile, User
from activity.models import Rating
from catalog.models import Genre, Title
from recommendations.services import training
from tests.api.test_recommendations import home_url, program_for
from tests.recommendations.test_home_views import home_rows, watching

pytestmark = pytest.mark.django_db

NEW_TITLE = "The Lighthouse Keeper's Daughter"
_CARD = re.compile(r'<li class="card home-card">.*?</li>', re.S)


def favourite_genres(profile: Profile, count: int = 2) -> list[Genre]:
    """The genres of the titles the profile rated highest on average (at
    least five ratings each)."""
    values: dict[int, list[float]] = defaultdict(list)
    for value, genre in Rating.objects.filter(profile=profile).values_list(
        "value", "title__genres"
    ):
        values[genre].append(value)
    means = {g: sum(v) / len(v) for g, v in values.items() if len(v) >= 5}
    best = sorted(means, key=lambda g: -means[g])[:count]
    return list(Genre.objects.filter(pk__in=best))


def curator_adds_title(client, genres: list[Genre]) -> Title:
    """Through the admin's add form, as a curator would."""
    curator = User.objects.create_superuser(
        email="curator@example.com", password="pw-curator-1"
    )
    client.force_login(curator)
    data = {
        "title": NEW_TITLE,
        "kind": "movie",
        "year": "2025",
        "runtime_minutes": "104",
        "maturity_rating": "PG-13",
        "synopsis": "A keeper's daughter finds a letter in the lamp room.",
        "is_available": "on",
        "boost": "1.0",
        "added_at_0": "2025-12-30",
        "added_at_1": "12:00:00",
        "Title_genres-TOTAL_FORMS": str(len(genres)),
        "Title_genres-INITIAL_FORMS": "0",
        "seasons-TOTAL_FORMS": "0",
        "seasons-INITIAL_FORMS": "0",
    }
    for n, genre in enumerate(genres):
        data[f"Title_genres-{n}-genre"] = str(genre.pk)
    response = client.post(reverse("admin:catalog_title_add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    client.logout()
    return Title.objects.get(title=NEW_TITLE)


def card_of(page: str, name: str) -> str:
    alt = f'alt="{html.escape(name)}"'
    return next(card for card in _CARD.findall(page) if alt in card)


def test_a_curators_new_title_reaches_a_fan_of_its_genres_flagged_new(
    client, demo_catalog, on_commit
):
    fan = (
        Profile.objects.filter(is_kids=False, ratings__value__gte=4)
        .order_by("id")
        .first()
    )
    genres = favourite_genres(fan)
    title = curator_adds_title(client, genres)
    assert not title.ratings.exists() and not title.viewings.exists()

    with on_commit():
        version = training.model_train(
            params={"n_factors": 10, "n_epochs": 5, "random_state": 0}
        )
    model = training.recommender_for(version)
    assert model.is_new([title.pk])[0]

    watching(client, fan)
    page = client.get(reverse("recommendations:home")).content.decode()
    rows = home_rows(page)
    showing = [
        name
        for name, titles in rows.items()
        if NEW_TITLE in titles
        and (name.startswith("Top picks") or name.startswith("Because you"))
    ]
    assert showing, rows
    card = card_of(page, NEW_TITLE)
    assert re.search(r'<span class="card-new">New<span class="visually-hidden">', card)
    # Only titles nobody had engaged with are flagged.
    badged = {
        html.unescape(re.search(r'alt="([^"]*)"', c)[1])
        for c in _CARD.findall(page)
        if "card-new" in c
    }
    assert NEW_TITLE in badged
    assert not Rating.objects.filter(title__title__in=badged).exists()
    assert len(badged) < len(_CARD.findall(page))
    # Programs see the same flag.
    body = program_for(fan).get(home_url(fan)).json()
    items = [
        (row["kind"], item)
        for row in body["rows"]
        for item in row["items"]
        if item["id"] == title.pk
    ]
    assert [(kind, item["new"]) for kind, item in items] == [
        (kind, True) for kind, _ in items
    ]
    assert items and items[0][0] in {"top-picks", "because"}


def test_evaluate_cold_titles_on_movielens_reports_every_yardstick(ml_latest_small):
    out = io.StringIO()
    call_command(
        "evaluate",
        "--data",
        str(ml_latest_small),
        "--cold-titles",
        "0.1",
        "--json",
        stdout=out,
    )
    result = json.loads(out.getvalue())

    assert result["fraction"] == 0.1
    assert result["held_out_titles"] == round(
        0.1 * len({line.split(",")[1] for line in ratings_lines(ml_latest_small)})
    )
    assert result["profiles"] > 500
    for key in ("ndcg@10", "random", "popularity", "oracle_popularity"):
        assert 0 <= result[key] <= 1
    assert str(result["alpha"]) in {
        str(a) for a in map(float, result["validation_ndcg_by_alpha"])
    }
    # The content model places new titles far better than chance and better
    # than the popularity their content predicts; the titles' true popularity
    # (unknowable for a new title) is the ceiling it is measured against.
    assert result["ndcg@10"] > 5 * result["random"]
    assert result["ndcg@10"] > result["popularity"]
    assert result["oracle_popularity"] > result["ndcg@10"]
    assert result["vs_popularity"] == round(result["ndcg@10"] / result["popularity"], 3)


def ratings_lines(folder) -> list[str]:
    return (folder / "ratings.csv").read_text().splitlines()[1:]


def test_evaluate_cold_titles_refuses_a_fraction_outside_zero_and_one(
    ml_latest_small,
):
    with pytest.raises(CommandError, match="between 0 and 1"):
        call_command("evaluate", "--data", str(ml_latest_small), "--cold-titles", "1.5")
