"""Curators in the admin: availability, boost and demote, collections."""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from catalog import services
from catalog.models import Collection, CollectionItem, Title
from catalog.selectors import catalog_version
from tests.factories import GenreFactory, TitleFactory

pytestmark = pytest.mark.django_db


def _action(admin_client, action: str, titles: list[Title]):
    return admin_client.post(
        reverse("admin:catalog_title_changelist"),
        {"action": action, "_selected_action": [t.pk for t in titles]},
        follow=True,
    )


def test_curator_makes_titles_unavailable_and_available_again(admin_client, on_commit):
    kept, withdrawn = TitleFactory(), TitleFactory()

    response = _action(admin_client, "make_unavailable", [withdrawn])

    assert "1 title(s) made unavailable." in response.content.decode()
    assert list(Title.objects.available()) == [kept]
    _action(admin_client, "make_available", [withdrawn])
    assert set(Title.objects.available()) == {kept, withdrawn}


@pytest.mark.parametrize(
    ("action", "boost"), [("boost", 1.25), ("demote", 0.75), ("reset_boost", 1.0)]
)
def test_boost_and_demote_set_a_bounded_factor(admin_client, on_commit, action, boost):
    title = TitleFactory(boost=1.5)

    _action(admin_client, action, [title])

    title.refresh_from_db()
    assert title.boost == boost


def test_a_boost_out_of_bounds_is_refused_by_service_and_database(on_commit):
    title = TitleFactory()

    with pytest.raises(ValueError, match=r"0\.5 to 1\.5"):
        services.title_curate(titles=[title], boost=3.0)
    with pytest.raises(IntegrityError), transaction.atomic():
        Title.objects.filter(pk=title.pk).update(boost=0.1)
    title.refresh_from_db()
    assert title.boost == 1.0


def test_a_curators_change_bumps_the_catalog_version_on_commit(on_commit):
    title = TitleFactory()
    before = catalog_version()

    with on_commit():
        services.title_curate(titles=[title], is_available=False)

    assert catalog_version() != before


def test_collection_preview_shows_its_titles_in_order_and_names_the_left_out(
    admin_client,
):
    first, second, withdrawn = (
        TitleFactory(title="Alpha"),
        TitleFactory(title="Beta"),
        TitleFactory(title="Gamma", is_available=False),
    )
    collection = Collection.objects.create(
        name="Staff picks", slug="staff-picks", audience=Collection.Audience.GENRES
    )
    collection.audience_genres.set([GenreFactory(name="Drama")])
    for position, title in ((2, first), (1, second), (3, withdrawn)):
        CollectionItem.objects.create(
            collection=collection, title=title, position=position
        )

    response = admin_client.get(
        reverse("admin:catalog_collection_preview", args=[collection.pk])
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.index("Beta") < html.index("Alpha")
    assert "Left out (unavailable)" in html and "Gamma" in html
    assert "Lovers of chosen genres (Drama)" in html


def test_collection_preview_is_for_staff_only(client):
    collection = Collection.objects.create(name="Picks", slug="picks")
    url = reverse("admin:catalog_collection_preview", args=[collection.pk])

    response = client.get(url)

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_collection_admin_lists_audience_and_live_state(admin_client):
    Collection.objects.create(name="Kids corner", slug="kids-corner", audience="kids")

    response = admin_client.get(reverse("admin:catalog_collection_changelist"))

    html = response.content.decode()
    assert "Kids corner" in html and "Kids profiles" in html
    assert "Preview home as…" in html
