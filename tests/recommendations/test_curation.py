"""Curators' work reaching the home page: collections, availability, and
"Preview home as…" (staff see a made-up profile's rows, never a real one's)."""

import pytest
from django.urls import reverse

from accounts.models import Profile
from catalog.models import Collection, Genre, Title
from recommendations.models import ProfileCandidates
from tests.recommendations.test_home_views import home_rows

pytestmark = pytest.mark.django_db

PREVIEW = "admin:recommendations_preview_home"


def _collection_form(titles: list[Title], **fields) -> dict:
    data = {
        "name": "Editors' choice",
        "slug": "editors-choice",
        "description": "Films our editors return to.",
        "position": "0",
        "audience": "everyone",
        "items-TOTAL_FORMS": str(len(titles)),
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "1000",
    }
    for n, title in enumerate(titles):
        data[f"items-{n}-position"] = str(n + 1)
        data[f"items-{n}-title"] = str(title.pk)
    return data | fields


def test_a_collection_saved_in_the_admin_is_on_the_next_home_visit(
    admin_client, client, trained, on_commit
):
    titles = list(Title.objects.order_by("-year", "id")[:6])
    before = home_rows(client.get("/").content.decode())  # now cached
    assert "Editors' choice" not in before

    with on_commit():
        response = admin_client.post(
            reverse("admin:catalog_collection_add"), _collection_form(titles)
        )

    assert response.status_code == 302
    after = home_rows(client.get("/").content.decode())
    assert next(iter(after)) == "Editors' choice"
    assert after["Editors' choice"] == [t.title for t in titles]


def test_a_collection_for_kids_is_not_shown_to_grown_ups(
    admin_client, client, trained, on_commit
):
    titles = list(Title.objects.order_by("-year", "id")[:6])
    with on_commit():
        admin_client.post(
            reverse("admin:catalog_collection_add"),
            _collection_form(titles, audience="kids"),
        )

    assert "Editors' choice" not in home_rows(client.get("/").content.decode())
    assert Collection.objects.get().audience == "kids"


def test_a_title_made_unavailable_in_the_admin_leaves_the_home_at_once(
    admin_client, client, trained, on_commit
):
    shown = home_rows(client.get("/").content.decode())
    first = Title.objects.get(title=next(iter(shown.values()))[0])

    with on_commit():
        admin_client.post(
            reverse("admin:catalog_title_changelist"),
            {"action": "make_unavailable", "_selected_action": [first.pk]},
        )

    after = home_rows(client.get("/").content.decode())
    assert first.title not in {t for titles in after.values() for t in titles}


def test_preview_home_as_shows_a_made_up_profiles_rows(admin_client, trained):
    scifi = Genre.objects.get(name="Sci-Fi")
    profiles = Profile.objects.count()
    candidates = list(
        ProfileCandidates.objects.order_by("profile_id").values_list("title_ids")
    )

    response = admin_client.get(reverse(PREVIEW), {"genres": [scifi.pk]})

    html = response.content.decode()
    assert response.status_code == 200
    assert "Top picks for this taste" in html
    top = response.context["page"].rows
    picks = next(r for r in top if r.kind == "top-picks").titles[:10]
    in_scifi = [t for t in picks if scifi in t.genres.all()]
    catalog_share = Title.objects.filter(genres=scifi).count() / Title.objects.count()
    assert len(in_scifi) / len(picks) > 2 * catalog_share
    # Nothing real was read into it or written by it.
    assert Profile.objects.count() == profiles
    assert (
        list(ProfileCandidates.objects.order_by("profile_id").values_list("title_ids"))
        == candidates
    )


def test_preview_home_as_asks_for_a_taste(admin_client, trained):
    response = admin_client.get(reverse(PREVIEW), {"kids": "on"})

    assert response.status_code == 200
    assert "Choose at least one genre or title." in response.content.decode()
    assert response.context["page"] is None


def test_preview_home_as_is_for_staff_only(client, trained):
    response = client.get(reverse(PREVIEW))

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))
