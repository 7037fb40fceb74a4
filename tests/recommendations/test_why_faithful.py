""" "Why this?" and "Because you…" name only signals that raised the score.

On the demo catalog with a trained model: every seed a card names (its
"Because you…" row's, or the ones "Why this?" adds) is a title whose part of
the card's ranking score is positive, and erasing that rating from the
site, as the viewer would, lowers the score.
"""

import re

import pytest

from activity.models import Rating, ViewingEvent
from catalog.models import Title
from privacy import services as privacy_services
from recommendations.home.page import home_page
from recommendations.home.why import why_page, why_this
from recommendations.services import training
from recommendations.services.dataset import profile_histories

pytestmark = pytest.mark.django_db

SEED_SENTENCE = re.compile(r"You (rated|watched|picked) (.+?)( [\d.]+★)?; viewers who")


def score(profile, title_id: int) -> float:
    _, model = training.serving_model()
    (history,) = profile_histories([profile.pk])
    return model.ranking_score(history, title_id)


def named_seeds(sentences: list[str]) -> list[str]:
    return [m[2] for s in sentences if (m := SEED_SENTENCE.match(s))]


def erase_signal(profile, title: Title) -> None:
    """What the viewer does on the Ratings or History page."""
    for rating in Rating.objects.filter(profile=profile, title=title):
        privacy_services.erase_item(profile=profile, kind="rating", item_id=rating.pk)
    for play in ViewingEvent.objects.filter(profile=profile, title=title):
        privacy_services.erase_item(profile=profile, kind="play", item_id=play.pk)


def test_every_seed_a_card_names_raised_that_cards_score(demo_viewer):
    _, model = training.serving_model()
    (history,) = profile_histories([demo_viewer.pk])
    page = home_page(profile=demo_viewer)
    why = why_page(profile=demo_viewer, page=page)

    checked = 0
    for row in page.rows:
        for title in row.titles:
            for name in named_seeds(why[row.key, title.pk]):
                seed = Title.objects.get(title=name).pk
                ids, parts, _ = model.contributions(history, title.pk)
                assert parts[list(ids).index(seed)] > 0, (row.key, title.title, name)
                checked += 1
    assert checked >= 10
    because = [row for row in page.rows if row.kind == "because"]
    assert because


def test_erasing_the_rating_why_this_names_lowers_the_titles_score(
    demo_viewer, on_commit
):
    page = home_page(profile=demo_viewer)
    top = next(row for row in page.rows if row.kind == "top-picks")
    found = next(
        (title, names)
        for title in top.titles
        if (names := named_seeds(why_this(profile=demo_viewer, title=title)))
    )
    title, names = found
    seed = Title.objects.get(title=names[0])
    before = score(demo_viewer, title.pk)

    with on_commit():
        erase_signal(demo_viewer, seed)

    assert score(demo_viewer, title.pk) < before
    assert names[0] not in named_seeds(why_this(profile=demo_viewer, title=title))


def test_a_because_rows_titles_each_lose_score_without_the_seed(demo_viewer):
    page = home_page(profile=demo_viewer)
    row = next(row for row in page.rows if row.kind == "because")
    seed = Title.objects.get(pk=row.seed_id)
    before = {t.pk: score(demo_viewer, t.pk) for t in row.titles}

    Rating.objects.filter(profile=demo_viewer, title=seed).delete()
    ViewingEvent.objects.filter(profile=demo_viewer, title=seed).delete()

    after = {t.pk: score(demo_viewer, t.pk) for t in row.titles}
    assert all(after[t] < before[t] for t in before), (seed.title, before, after)
