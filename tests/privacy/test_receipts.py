"""Effect receipts: every control that changes the rows says what it changed,
and the numbers it says are the difference measured here, independently, by
building the profile's home page before and after the control."""

from collections import Counter

import pytest
from django.urls import reverse

from accounts.models import Profile
from activity.models import Feedback, Rating, ViewingEvent
from catalog.models import Genre, Title
from consent import policy
from privacy import receipts
from privacy.models import ConsentEvent
from recommendations.home.page import home_page
from recommendations.services.candidates import profile_refresh
from recommendations.services.receipts import PageRows, rows_diff
from tests.activity.conftest import HTMX, watch_as

pytestmark = pytest.mark.usefixtures("postgres")

TOGGLE = reverse("privacy:toggle")
EXPLORATION = reverse("privacy:exploration")
HIDDEN_GENRES = reverse("privacy:hidden_genres")
ERASE_CATEGORY = reverse("privacy:erase_category")


def fresh(profile: Profile) -> Profile:
    return Profile.objects.select_related("privacy").get(pk=profile.pk)


def rows(profile: Profile) -> list[tuple[str, str, list[int]]]:
    """The profile's home rows as the home page builds them: (kind, name, ids)."""
    page = home_page(profile=fresh(profile))
    return [(r.kind, r.name, [t.pk for t in r.titles]) for r in page.rows]


def on_page(page) -> set[int]:
    return {t for _, _, ids in page for t in ids}


def top_picks(page) -> tuple[str, list[int]]:
    return next((name, ids) for kind, name, ids in page if kind == "top-picks")


def first_places(page) -> dict[int, tuple[int, int]]:
    places: dict[int, tuple[int, int]] = {}
    for r, (_, _, ids) in enumerate(page):
        for c, t in enumerate(ids):
            places.setdefault(t, (r, c))
    return places


def receipt_lines(profile: Profile) -> list[tuple[str, str]]:
    return list(
        ConsentEvent.objects.filter(
            user=profile.user, what__startswith="receipt: "
        ).values_list("what", "new_value")
    )


@pytest.fixture
def viewer(client, demo_viewer):
    profile_refresh(profile_id=demo_viewer.pk)  # as the worker left it
    watch_as(client, demo_viewer)
    return demo_viewer


def most_shown_genre(profile: Profile) -> Genre:
    _, ids = top_picks(rows(profile))
    counts = Counter(
        Title.genres.through.objects.filter(title_id__in=ids).values_list(
            "genre_id", flat=True
        )
    )
    return Genre.objects.get(pk=counts.most_common(1)[0][0])


# --- hidden genres ------------------------------------------------------------------


def test_hiding_a_genre_says_how_many_titles_left_the_rows(client, viewer):
    genre = most_shown_genre(viewer)
    before = rows(viewer)

    response = client.post(
        HIDDEN_GENRES, {"genres": [genre.pk], "profile": viewer.pk}, headers=HTMX
    )

    after = rows(viewer)
    removed = on_page(before) - on_page(after)
    name, picks = top_picks(before)
    from_picks = len(set(picks) & removed)
    added = on_page(after) - on_page(before)
    assert removed and from_picks
    expected = (
        f"Hiding {genre.name} removed {len(removed)} titles from your rows "
        f"({from_picks} from {name})" + (f" and added {len(added)}." if added else ".")
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert expected in body
    assert receipt_lines(viewer) == [(f"receipt: hidden genre {genre.name}", expected)]
    # What it says is what happened: no title of the genre is left on the page.
    assert not Title.objects.filter(pk__in=on_page(after), genres=genre).exists()
    assert ">Undo</button>" in body


def test_the_undo_of_a_hidden_genre_brings_the_titles_back(client, viewer):
    genre = most_shown_genre(viewer)
    before = rows(viewer)
    client.post(HIDDEN_GENRES, {"genres": [genre.pk], "profile": viewer.pk})
    hidden = rows(viewer)

    response = client.post(HIDDEN_GENRES, {"profile": viewer.pk}, headers=HTMX)

    back = on_page(rows(viewer)) - on_page(hidden)
    assert on_page(rows(viewer)) == on_page(before)
    assert f"Showing {genre.name} again added {len(back)} titles to your rows" in (
        response.content.decode()
    )


def test_a_preview_of_a_hidden_genre_says_the_same_and_changes_nothing(client, viewer):
    genre = most_shown_genre(viewer)
    before = rows(viewer)

    preview = client.post(
        HIDDEN_GENRES,
        {"genres": [genre.pk], "profile": viewer.pk, "preview": "1"},
        headers=HTMX,
    )

    assert rows(viewer) == before
    assert policy.hidden_genre_ids(policy.settings_for(fresh(viewer))) == set()
    assert not ConsentEvent.objects.filter(user=viewer.user).exists()
    receipt = receipts.hidden_genres_receipt(profile=fresh(viewer), genres=[genre])
    would = receipt.text.replace("removed", "would remove").replace(
        "and added", "and would add"
    )
    body = preview.content.decode()
    assert would in body
    assert "Confirm</button>" in body and ">Cancel</a>" in body


# --- not interested -------------------------------------------------------------------


def test_not_interested_says_how_many_similar_titles_moved_down(client, viewer):
    before = rows(viewer)
    _, picks = top_picks(before)
    title = Title.objects.get(pk=picks[0])
    similar = set(
        Title.objects.filter(genres__in=title.genres.all())
        .exclude(pk=title.pk)
        .values_list("pk", flat=True)
    )

    response = client.post(
        reverse("activity:not_interested", args=[title.pk]),
        {"action": "add"},
        headers=HTMX,
    )

    after = rows(viewer)
    old, new = first_places(before), first_places(after)
    gone = on_page(before) - on_page(after)
    lowered = {t for t in similar & set(old) if t in gone or new[t] > old[t]}
    assert title.pk in gone
    expected = (
        f"Not interested in {title.title}: it left your rows; {len(lowered)} "
        f"similar title{'' if len(lowered) == 1 else 's'} moved down "
        f"({len(gone & similar)} of them out of your rows)."
    )
    assert expected in response.content.decode()
    assert Feedback.objects.filter(
        profile=viewer, title=title, kind=Feedback.Kind.NOT_INTERESTED
    ).exists()
    assert receipt_lines(viewer) == [
        (f"receipt: not interested: {title.title}", expected)
    ]


# --- the switches and exploration ------------------------------------------------------


def test_personalization_off_is_previewed_then_turned_off(client, viewer):
    before = rows(viewer)
    asked = {"setting": "personalization", "value": "off", "profile": viewer.pk}

    preview = client.post(TOGGLE, {**asked, "preview": "1"}, headers=HTMX)

    assert policy.settings_for(fresh(viewer)).personalization is True
    assert rows(viewer) == before
    assert "Turn it off</button>" in preview.content.decode()

    response = client.post(TOGGLE, asked, headers=HTMX)

    after = rows(viewer)
    removed = on_page(before) - on_page(after)
    added = on_page(after) - on_page(before)
    name, picks = top_picks(before)
    effect = (
        f"removed {len(removed)} titles from your rows "
        f"({len(set(picks) & removed)} from {name}) and added {len(added)}"
    )
    assert f"Turning personalized rows off {effect}: your rows are now" in (
        response.content.decode()
    )
    assert (
        f"Turning personalized rows off "
        f"{effect.replace('removed', 'would remove').replace('added', 'would add')}"
        in preview.content.decode()
    )
    assert policy.settings_for(fresh(viewer)).personalization is False


def test_pausing_viewing_history_changes_no_row_and_says_what_is_used(client, viewer):
    before = rows(viewer)

    response = client.post(
        TOGGLE,
        {"setting": "pause_viewing_history", "value": "on", "profile": viewer.pk},
        headers=HTMX,
    )

    assert rows(viewer) == before
    ratings = Rating.objects.filter(profile=viewer).count()
    plays = ViewingEvent.objects.filter(profile=viewer).count()
    plays_said = f"{plays} play{'' if plays == 1 else 's'}"
    assert (
        "Pausing viewing history: no new play is kept from now on; your rows still "
        f"use the {ratings} ratings and {plays_said} already kept, so it changed "
        "no title in your rows."
    ) in response.content.decode()


def test_exploration_says_how_many_top_picks_changed(client, viewer):
    before = rows(viewer)

    response = client.post(
        EXPLORATION, {"exploration": 100, "profile": viewer.pk}, headers=HTMX
    )

    after = rows(viewer)
    name, picks = top_picks(before)
    _, new_picks = top_picks(after)
    changed = len(set(picks) - set(new_picks))
    assert changed
    assert f"Exploration 20 → 100: {changed} of the {len(picks)} {name} changed;" in (
        response.content.decode()
    )


# --- erasing a category ------------------------------------------------------------------


def test_erasing_ratings_is_previewed_then_says_what_left_the_rows(client, viewer):
    before = rows(viewer)
    count = Rating.objects.filter(profile=viewer).count()
    form = {"profile": viewer.pk, "category": "ratings"}

    preview = client.post(ERASE_CATEGORY, {**form, "preview": "1"})

    assert Rating.objects.filter(profile=viewer).count() == count
    assert rows(viewer) == before
    assert f"Erasing {count} ratings would remove " in preview.content.decode()
    assert "Confirm: erase</button>" in preview.content.decode()

    response = client.post(ERASE_CATEGORY, form, follow=True)

    after = rows(viewer)
    removed = on_page(before) - on_page(after)
    assert not Rating.objects.filter(profile=viewer).exists()
    assert f"Erased {count} ratings: it removed {len(removed)} titles" in (
        response.content.decode()
    )
    ((what, said),) = receipt_lines(viewer)
    assert what == "receipt: all ratings erased"
    assert said.startswith(f"Erased {count} ratings: it removed {len(removed)} titles")


def test_receipts_are_listed_in_the_consent_log(client, viewer):
    genre = most_shown_genre(viewer)
    client.post(HIDDEN_GENRES, {"genres": [genre.pk], "profile": viewer.pk})
    ((_, said),) = receipt_lines(viewer)

    page = client.get(reverse("privacy:consent_log")).content.decode()

    assert f"What it changed: hidden genre {genre.name}" in page
    assert said in page


# --- the difference itself (no database) ----------------------------------------------------


def test_rows_diff_counts_titles_that_left_came_and_moved():
    before = PageRows(
        rows=(
            ("top", "top-picks", "Top picks", (1, 2, 3)),
            ("new", "new", "New", (4, 5)),
        ),
        personalized=True,
    )
    after = PageRows(
        rows=(
            ("top", "top-picks", "Top picks", (3, 1, 6)),
            ("new", "new", "New", (4,)),
        ),
        personalized=True,
    )

    diff = rows_diff(before, after)

    assert (diff.removed, diff.added) == ({2, 5}, {6})
    assert (diff.moved_down, diff.moved_up) == ({1}, {3})
    assert [(r.name, r.titles, r.left_page, r.left_row) for r in diff.rows] == [
        ("Top picks", 3, 1, 1),
        ("New", 2, 1, 1),
    ]
    assert receipts.effect_words(diff, preview=False) == (
        "removed 2 titles from your rows (1 from Top picks) and added 1"
    )


def test_a_preview_of_an_unknown_genre_is_a_400_that_changes_nothing(client, viewer):
    response = client.post(
        HIDDEN_GENRES, {"genres": ["999999"], "profile": viewer.pk, "preview": "1"}
    )

    assert response.status_code == 400
    assert policy.hidden_genre_ids(policy.settings_for(fresh(viewer))) == set()
    assert not ConsentEvent.objects.filter(user=viewer.user).exists()


# --- show fewer, taste sliders, the home page's switch ---------------------------------


def test_show_fewer_says_how_many_similar_titles_moved_down_and_hides_none(
    client, viewer
):
    before = rows(viewer)
    _, picks = top_picks(before)
    title = Title.objects.get(pk=picks[0])
    similar = set(
        Title.objects.filter(genres__in=title.genres.all())
        .exclude(pk=title.pk)
        .values_list("pk", flat=True)
    )

    response = client.post(
        reverse("activity:show_fewer", args=[title.pk]),
        {"action": "add"},
        headers=HTMX,
    )

    after = rows(viewer)
    old, new = first_places(before), first_places(after)
    gone = on_page(before) - on_page(after)
    lowered = {t for t in similar & set(old) if t in gone or new[t] > old[t]}
    expected = (
        f"Fewer like {title.title}: {len(lowered)} similar "
        f"title{'' if len(lowered) == 1 else 's'} moved down "
        f"({len(gone & similar)} of them out of your rows); none is hidden."
    )
    assert expected in response.content.decode()
    assert receipt_lines(viewer) == [(f"receipt: show fewer: {title.title}", expected)]


def test_turning_a_genre_off_on_the_sliders_says_what_left_the_rows(client, viewer):
    before = rows(viewer)
    genre = most_shown_genre(viewer)

    response = client.post(
        reverse("privacy:taste"),
        {"profile": viewer.pk, f"genre-{genre.pk}": 0},
        headers=HTMX,
    )

    after = rows(viewer)
    old, new = first_places(before), first_places(after)
    both = set(old) & set(new)
    up = sum(new[t] < old[t] for t in both)
    down = sum(new[t] > old[t] for t in both)
    gone = on_page(before) - on_page(after)
    assert up + down + len(gone), "turning the most shown genre off changes rows"
    (line,) = receipt_lines(viewer)
    assert line[0] == "receipt: taste sliders"
    assert line[1].endswith(
        f"; {up} title{'' if up == 1 else 's'} moved up and {down} down."
    )
    assert (f"removed {len(gone)} title" in line[1]) == bool(gone)
    assert line[1] in response.content.decode()


def test_the_home_switch_says_what_not_basing_rows_on_activity_changed(client, viewer):
    before = rows(viewer)

    response = client.post(
        reverse("privacy:home_rows_basis"), {"basis": "everyone"}, headers=HTMX
    )

    after = rows(viewer)
    gone = on_page(before) - on_page(after)
    (line,) = receipt_lines(viewer)
    assert line[0] == "receipt: rows not based on activity"
    assert line[1].startswith("Rows not based on your activity removed ")
    assert f"removed {len(gone)} title" in line[1]
    assert "no play is kept" in line[1]
    assert line[1] in response.content.decode()
