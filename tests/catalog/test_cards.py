"""What every page's frame and every poster card show before and after data:
the footer's data credit, the poster's reserved box."""

import pytest
from django.urls import reverse

from catalog.models import Title
from tests.factories import GenreFactory, TitleFactory

pytestmark = pytest.mark.django_db

CREDIT = "Catalog data: MovieLens, GroupLens Research, University of Minnesota."


def test_a_demo_catalog_does_not_credit_movielens(client):
    TitleFactory(title="Invented", source=Title.Source.DEMO)

    html = client.get(reverse("recommendations:home")).content.decode()

    assert "MovieLens" not in html


def test_the_footer_credits_movielens_once_its_data_was_imported(client):
    TitleFactory(title="Invented", source=Title.Source.DEMO)
    TitleFactory(title="Heat", source=Title.Source.MOVIELENS)

    html = client.get(reverse("recommendations:home")).content.decode()

    assert f'<p class="footer-credit">{CREDIT}</p>' in html


def test_a_title_page_credits_movielens_for_a_movielens_title_only(client):
    heat = TitleFactory(title="Heat", source=Title.Source.MOVIELENS)
    invented = TitleFactory(title="Invented", source=Title.Source.DEMO)

    assert CREDIT in client.get(heat.get_absolute_url()).content.decode()
    assert CREDIT not in client.get(invented.get_absolute_url()).content.decode()


@pytest.mark.parametrize(
    ("name", "initials"),
    [
        ("Paper Ballad", "PB"),
        ("The Thief's Garden", "TG"),
        ("Heat", "H"),
        ("A", "A"),
        ("Inside the Reef: A Portrait", "IT"),
        ("1917", "1"),
    ],
)
def test_a_posters_placeholder_shows_the_titles_initials(name, initials):
    assert Title(pk=7, title=name).poster_initials == initials


def test_a_genre_page_card_reserves_the_posters_box_with_its_initials(client):
    drama = GenreFactory(name="Drama")
    title = TitleFactory(title="Paper Ballad", genres=[drama])

    html = client.get(reverse("catalog:genre", args=[drama.slug])).content.decode()

    tint = title.pk % Title.POSTER_TINTS
    assert (
        f'<span class="poster-box poster-tint-{tint}"><span class="poster-initials" '
        'aria-hidden="true">PB</span><img class="card-poster"'
    ) in html
