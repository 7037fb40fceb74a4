"""reverse_pk: the same links as reverse(), resolved once per name."""

import pytest
from django.urls import reverse, set_script_prefix

from config.links import reverse_pk

NAMES = ("catalog:title", "catalog:poster", "recommendations:why")


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("pk", [1, 42, 2147483629, 10**12])
def test_it_gives_the_link_reverse_gives(name, pk):
    assert reverse_pk(name, pk) == reverse(name, args=[pk])


def test_a_site_served_under_a_path_prefix_gets_that_prefix():
    try:
        set_script_prefix("/marquee/")
        assert reverse_pk("catalog:title", 7) == "/marquee/titles/7/"
        assert reverse_pk("catalog:title", 7) == reverse("catalog:title", args=[7])
    finally:
        set_script_prefix("/")
    assert reverse_pk("catalog:title", 7) == "/titles/7/"


def test_an_id_that_is_not_a_number_is_refused():
    with pytest.raises(ValueError):
        reverse_pk("catalog:title", "7/../admin")
