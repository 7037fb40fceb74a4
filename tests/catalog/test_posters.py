"""Generated SVG posters: the pure drawing function and the view that serves it."""

import re
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse

from catalog.posters import poster_svg, poster_version, wrap_title
from tests.factories import GenreFactory, TitleFactory

SVG = "{http://www.w3.org/2000/svg}"


def draw(**overrides) -> str:
    fields = {"title_id": 7, "title": "Heat", "year": 1995, "genres": ["Crime"]}
    return poster_svg(**(fields | overrides))


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # raises on anything that is not well-formed XML


def title_lines(svg: str) -> list[str]:
    root = parse(svg)
    return [t.text for t in root.iter(f"{SVG}tspan")]


def texts(svg: str) -> list[str]:
    """Each <text>, its lines joined by spaces."""
    return [" ".join(t.itertext()) for t in parse(svg).iter(f"{SVG}text")]


def background(svg: str) -> list[str]:
    gradient = parse(svg).find(f".//{SVG}linearGradient[@id='bg']")
    return [stop.get("stop-color") for stop in gradient]


def test_poster_is_the_same_every_time_for_the_same_title():
    assert draw() == draw()


def test_poster_differs_between_titles_with_the_same_text():
    assert draw(title_id=1) != draw(title_id=2)


def test_poster_is_a_2_by_3_svg_named_after_the_title_and_year():
    root = parse(draw(title="The Matrix", year=1999))

    assert root.tag == f"{SVG}svg"
    assert root.get("viewBox") == "0 0 200 300"
    assert (root.get("width"), root.get("height")) == ("200", "300")
    assert root.find(f"{SVG}title").text == "The Matrix (1999)"
    assert texts(draw(title="The Matrix", year=1999)) == ["1999", "The Matrix", "CRIME"]


def test_poster_without_year_or_genres_still_draws_the_title():
    root = parse(draw(title="Untitled Project", year=None, genres=[]))

    assert root.find(f"{SVG}title").text == "Untitled Project"
    assert texts(draw(title="Untitled Project", year=None, genres=[])) == [
        "Untitled Project"
    ]


def test_poster_escapes_markup_in_the_title():
    svg = draw(title='<script>alert("x")</script> & Sons')

    assert "<script" not in svg
    assert "&lt;script&gt;" in svg
    root = parse(svg)
    assert root.find(f"{SVG}title").text == '<script>alert("x")</script> & Sons (1995)'
    assert not root.findall(f".//{SVG}script")


def test_poster_drops_characters_xml_cannot_hold():
    root = parse(draw(title="Nul\x00 and bell\x07 ]]> end"))

    assert root.find(f"{SVG}title").text == "Nul and bell ]]> end (1995)"


def test_poster_genres_choose_the_palette():
    horror = background(draw(genres=["Horror"]))
    comedy = background(draw(genres=["Comedy"]))

    assert horror != comedy
    # Horror is red: the red channel leads in its first colour.
    red, green, blue = (int(horror[0][i : i + 2], 16) for i in (1, 3, 5))
    assert red > green and red > blue


def test_poster_of_an_unknown_genre_is_still_deterministic():
    assert draw(genres=["Mumblecore"]) == draw(genres=["Mumblecore"])


def test_long_title_wraps_on_several_lines_within_the_poster():
    title = "Dr. Strangelove or: How I Learned to Stop Worrying and Love the Bomb"

    lines = title_lines(draw(title=title))

    assert 2 <= len(lines) <= 5
    assert " ".join(lines) == title
    _, size = wrap_title(title)
    longest = max(len(line) for line in lines)
    assert longest * size * 0.52 <= 200 - 2 * 16


def test_very_long_title_is_cut_with_an_ellipsis():
    lines, _ = wrap_title("word " * 80)

    assert len(lines) == 5
    assert lines[-1].endswith("…")


def test_one_long_word_is_broken_rather_than_overflowing():
    lines, size = wrap_title("Supercalifragilisticexpialidocious")

    assert "".join(lines) == "Supercalifragilisticexpialidocious"
    assert max(len(line) for line in lines) * size * 0.52 <= 168


def test_poster_version_changes_with_the_text_only():
    assert poster_version("Heat", 1995) == poster_version("Heat", 1995)
    assert poster_version("Heat", 1995) != poster_version("Heat 2", 1995)
    assert poster_version("Heat", 1995) != poster_version("Heat", 1996)


# --- The view ----------------------------------------------------------------


@pytest.mark.django_db
def test_poster_view_serves_the_svg_with_long_cache_headers(client):
    title = TitleFactory(title="Heat", year=1995, genres=[GenreFactory(name="Crime")])

    response = client.get(reverse("catalog:poster", args=[title.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    assert cache_control == {"public", "max-age=31536000", "immutable"}
    assert re.fullmatch(r'"[0-9a-f]{32}"', response["ETag"])
    assert response["Content-Security-Policy"] == "default-src 'none'"
    assert response.content.decode() == poster_svg(
        title_id=title.pk, title="Heat", year=1995, genres=["Crime"]
    )


@pytest.mark.django_db
def test_poster_view_answers_a_matching_etag_with_304(client):
    title = TitleFactory()
    url = reverse("catalog:poster", args=[title.pk])
    etag = client.get(url)["ETag"]

    response = client.get(url, headers={"If-None-Match": etag})

    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag
    assert "immutable" in response["Cache-Control"]


@pytest.mark.django_db
def test_poster_view_changes_etag_when_the_title_is_renamed(client):
    title = TitleFactory(title="Heat")
    url = reverse("catalog:poster", args=[title.pk])
    before = client.get(url)["ETag"]
    old_url = title.poster_url

    title.title = "Heat (Director's Cut)"
    title.save()

    assert client.get(url)["ETag"] != before
    assert title.poster_url != old_url


@pytest.mark.django_db
def test_poster_view_uses_one_query(client, django_assert_num_queries):
    genres = [GenreFactory(name=f"Genre {i}") for i in range(5)]
    title = TitleFactory(genres=genres)

    with django_assert_num_queries(1):
        client.get(reverse("catalog:poster", args=[title.pk]))


@pytest.mark.django_db
@pytest.mark.parametrize("pk", [424242, 2**63 + 5])
def test_poster_of_an_unknown_title_is_404(client, pk):
    response = client.get(f"/titles/{pk}/poster.svg")

    assert response.status_code == 404


@pytest.mark.django_db
def test_poster_view_refuses_post(client):
    title = TitleFactory()

    response = client.post(reverse("catalog:poster", args=[title.pk]))

    assert response.status_code == 405


@pytest.mark.django_db
def test_cards_show_the_poster_and_link_to_the_title_page(client):
    drama = GenreFactory(name="Drama")
    title = TitleFactory(title="Heat & Dust", year=1983, genres=[drama])

    html = client.get(reverse("catalog:genre", args=["drama"])).content.decode()

    assert f'<a class="card-link" href="/titles/{title.pk}/">' in html
    assert (
        f'<img class="card-poster" src="/titles/{title.pk}/poster.svg?v='
        f'{poster_version("Heat & Dust", 1983)}" alt="Heat &amp; Dust" '
        'width="200" height="300" loading="lazy" decoding="async">'
    ) in html
