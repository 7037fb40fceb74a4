"""reverse_pk: the same links as reverse(), resolved once per name; parse_id:
what makes an id in a query string or a form."""

import pytest
from django.urls import reverse, set_script_prefix

from accounts.access import ACTIVE_PROFILE_SESSION_KEY
from config.links import parse_id, reverse_pk
from tests.factories import ProfileFactory, TitleFactory

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


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("42", 42), ("0", 0), ("²", None), ("①", None), ("٣", None), ("-1", None),
     ("4.0", None), ("", None), (None, None), (str(2**63), None), (str(2**63 - 1), 2**63 - 1)],
)  # fmt: skip
def test_only_ascii_digits_within_a_bigint_make_an_id(raw, expected):
    assert parse_id(raw) == expected


@pytest.mark.django_db
def test_a_play_of_a_viewing_named_by_a_superscript_digit_is_not_found(client):
    title = TitleFactory()
    profile = ProfileFactory()
    client.force_login(profile.user)
    session = client.session
    session[ACTIVE_PROFILE_SESSION_KEY] = profile.pk
    session.save()

    response = client.get(reverse("activity:play", args=[title.pk]), {"viewing": "²"})

    assert response.status_code == 404
