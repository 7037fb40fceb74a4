"""Cleaning MovieLens titles; pure functions, no database."""

import pytest

from catalog.titles import CleanTitle, clean_movielens_title, sort_title_for


def test_trailing_article_moves_to_the_front():
    assert clean_movielens_title("Matrix, The (1999)") == CleanTitle(
        title="The Matrix", sort_title="matrix", year=1999
    )


def test_original_title_in_brackets_becomes_the_alternative_title():
    raw = "City of Lost Children, The (Cité des enfants perdus, La) (1995)"

    assert clean_movielens_title(raw) == CleanTitle(
        title="The City of Lost Children",
        sort_title="city of lost children",
        alternative_title="La Cité des enfants perdus",
        year=1995,
    )


def test_open_year_range_marks_a_running_series():
    assert clean_movielens_title("Big Bang Theory, The (2007-)") == CleanTitle(
        title="The Big Bang Theory",
        sort_title="big bang theory",
        year=2007,
        end_year=None,
        is_series=True,
    )


def test_closed_year_range_marks_an_ended_series():
    assert clean_movielens_title("Fawlty Towers (1975-1979)") == CleanTitle(
        title="Fawlty Towers",
        sort_title="fawlty towers",
        year=1975,
        end_year=1979,
        is_series=True,
    )


def test_title_without_a_year_keeps_its_whole_name():
    assert clean_movielens_title("Hyena Road") == CleanTitle(
        title="Hyena Road", sort_title="hyena road"
    )


def test_aka_prefix_is_dropped_from_the_alternative_title():
    assert clean_movielens_title("Seven (a.k.a. Se7en) (1995)") == CleanTitle(
        title="Seven", sort_title="seven", alternative_title="Se7en", year=1995
    )


def test_runs_of_whitespace_are_collapsed():
    assert clean_movielens_title("  Toy   Story  (1995) ") == CleanTitle(
        title="Toy Story", sort_title="toy story", year=1995
    )


def test_elided_article_joins_without_a_space():
    assert clean_movielens_title("Auberge espagnole, L' (2002)") == CleanTitle(
        title="L'Auberge espagnole", sort_title="auberge espagnole", year=2002
    )


def test_number_in_brackets_at_the_start_is_part_of_the_title():
    assert clean_movielens_title("(500) Days of Summer (2009)") == CleanTitle(
        title="(500) Days of Summer", sort_title="(500) days of summer", year=2009
    )


@pytest.mark.parametrize(
    ("title", "article", "expected"),
    [
        ("The Matrix", "The", "matrix"),
        ("Les Misérables", "Les", "misérables"),
        ("A Fish Called Wanda", "", "fish called wanda"),
        ("An American in Paris", "", "american in paris"),
        ("Theremin", "", "theremin"),
        ("The", "", "the"),
        ("Das Boot", "", "das boot"),
    ],
)
def test_sort_title_drops_the_leading_article_and_lowers_case(title, article, expected):
    assert sort_title_for(title, article) == expected
