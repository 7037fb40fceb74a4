"""A profile's signals through the API: ratings, feedback, My List, plays,
Continue Watching and history, read back through the API itself; the
contract fixes of issue #12 (half stars as JSON numbers, integer title ids,
the kids rule, ownership, scopes, paging)."""

import pytest
from rest_framework.test import APIClient

from accounts.models import AccessToken, Profile
from activity.models import Feedback, ListItem, Rating, ViewingEvent
from catalog.models import Title
from consent.policy import PRIVATE_SESSION_KEY
from privacy.models import ConsentEvent
from tests.factories import (
    FeedbackFactory,
    ListItemFactory,
    PrivacySettingsFactory,
    RatingFactory,
    TitleFactory,
    ViewingEventFactory,
)

HALF_STARS = "0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5"


def url(profile: Profile, path: str) -> str:
    return f"/api/v1/profiles/{profile.pk}/{path}"


def error(response) -> dict:
    """The one error of a response in the API's error shape."""
    body = response.json()
    assert len(body["errors"]) == 1, body
    return body["errors"][0]


def results(client: APIClient, address: str) -> list[dict]:
    response = client.get(address)
    assert response.status_code == 200, response.content
    return response.json()["results"]


@pytest.fixture
def heat(db) -> Title:
    return TitleFactory(title="Heat", runtime_minutes=120, maturity_rating="R")


@pytest.fixture
def kites(db) -> Title:
    """A title for children."""
    return TitleFactory(title="Paper Kites", runtime_minutes=80, maturity_rating="G")


# --- ratings -----------------------------------------------------------------------


def test_rating_is_created_then_updated_and_read_back_with_its_id(api, adult, heat):
    first = api.post(url(adult, "ratings/"), {"title": heat.pk, "value": 4}, "json")
    again = api.post(url(adult, "ratings/"), {"title": heat.pk, "value": 4.5}, "json")

    assert first.status_code == 201, first.content
    assert again.status_code == 200, again.content
    rating = Rating.objects.get(profile=adult)
    assert first.json()["id"] == again.json()["id"] == rating.pk
    listed = results(api, url(adult, "ratings/"))
    assert [(r["id"], r["title"], r["value"]) for r in listed] == [
        (rating.pk, heat.pk, 4.5)
    ]
    one = api.get(url(adult, f"ratings/{rating.pk}/"))
    assert one.status_code == 200
    assert one.json() == listed[0]


@pytest.mark.parametrize("value", [4, 4.0, 4.5, 0.5, 5])
def test_ratings_are_json_numbers_in_half_stars(api, adult, heat, value):
    response = api.post(
        url(adult, "ratings/"), {"title": heat.pk, "value": value}, "json"
    )

    assert response.status_code == 201, response.content
    assert response.json()["value"] == float(value)
    assert Rating.objects.get(profile=adult).value == float(value)


@pytest.mark.parametrize(
    "value", [4.2, "four", "4", 0, 5.5, -1, True, None, [4], 10**400, 4 + 1e-12]
)
def test_a_rating_that_is_not_a_half_star_is_a_400_naming_the_ten(
    api, adult, heat, value
):
    response = api.post(
        url(adult, "ratings/"), {"title": heat.pk, "value": value}, "json"
    )

    assert response.status_code == 400, response.content
    problem = error(response)
    assert problem["attr"] == "value"
    if value is not None:
        assert HALF_STARS in problem["detail"]
    assert not Rating.objects.exists()


@pytest.mark.parametrize(
    "title_id",
    [
        lambda pk: pk + 0.5,
        lambda pk: f"{pk}.5",
        lambda pk: str(pk),
        lambda pk: True,
        lambda pk: None,
        lambda pk: [pk],
        lambda pk: {"id": pk},
    ],
    ids=["1.5", "'1.5'", "'1'", "true", "null", "[1]", "{id: 1}"],
)
def test_a_title_id_must_be_a_json_integer(api, adult, heat, title_id):
    response = api.post(
        url(adult, "ratings/"), {"title": title_id(heat.pk), "value": 4}, "json"
    )

    assert response.status_code == 400, response.content
    assert error(response)["attr"] == "title"
    assert not Rating.objects.exists()


def test_a_title_id_may_be_written_as_a_whole_float(api, adult, heat):
    """JSON has one kind of number: 7.0 is the integer 7 (JSON Schema agrees)."""
    response = api.post(
        url(adult, "ratings/"), {"title": float(heat.pk), "value": 4}, "json"
    )

    assert response.status_code == 201, response.content
    assert response.json()["title"] == heat.pk


@pytest.mark.parametrize("title_id", [0, -3, 10**6, 2**63, 10**30])
def test_a_title_that_is_not_there_is_a_404(api, adult, title_id):
    response = api.post(url(adult, "ratings/"), {"title": title_id, "value": 4}, "json")

    assert response.status_code == 404, response.content
    assert error(response)["code"] == "not_found"
    assert not Rating.objects.exists()


def test_a_withdrawn_title_cannot_be_rated(api, adult, heat):
    Title.objects.filter(pk=heat.pk).update(is_available=False)

    response = api.post(url(adult, "ratings/"), {"title": heat.pk, "value": 4}, "json")

    assert response.status_code == 404
    assert not Rating.objects.exists()


def test_ratings_filter_by_title(api, adult, heat, kites):
    RatingFactory(profile=adult, title=heat, value=3.0)
    RatingFactory(profile=adult, title=kites, value=5.0)

    listed = results(api, url(adult, f"ratings/?title={kites.pk}"))
    bad = api.get(url(adult, "ratings/?title=1.5"))

    assert [(r["title"], r["value"]) for r in listed] == [(kites.pk, 5.0)]
    assert bad.status_code == 400
    assert error(bad)["attr"] == "title"


def test_deleting_a_rating_erases_it_as_the_ratings_page_does(api, adult, heat):
    rating = RatingFactory(profile=adult, title=heat, value=3.0)

    response = api.delete(url(adult, f"ratings/{rating.pk}/"))

    assert response.status_code == 204
    assert api.get(url(adult, f"ratings/{rating.pk}/")).status_code == 404
    assert results(api, url(adult, "ratings/")) == []
    assert api.delete(url(adult, f"ratings/{rating.pk}/")).status_code == 404
    erasure = ConsentEvent.objects.get(profile_id_at_time=adult.pk)
    assert (erasure.kind, erasure.new_value) == (
        ConsentEvent.Kind.ERASURE,
        f"rating {rating.pk}",
    )


def test_ratings_list_pages_by_cursor_latest_first(api, adult):
    ratings = [RatingFactory(profile=adult, value=3.0) for _ in range(5)]
    for minutes, rating in enumerate(reversed(ratings)):  # the first changed last
        Rating.objects.filter(pk=rating.pk).update(
            updated_at=rating.updated_at.replace(year=2020, minute=minutes)
        )
    seen, address, pages = [], url(adult, "ratings/?page_size=2"), 0

    while address:
        page = api.get(address)
        assert page.status_code == 200, page.content
        assert len(page.json()["results"]) <= 2
        seen += [r["id"] for r in page.json()["results"]]
        address, pages = page.json()["next"], pages + 1

    assert seen == [r.pk for r in ratings]
    assert pages == 3


# --- who may ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, body",
    [
        ("ratings/", lambda t: {"title": t.pk, "value": 4}),
        ("feedback/", lambda t: {"title": t.pk, "kind": "thumbs_up"}),
        ("my-list/", lambda t: {"title": t.pk}),
        ("viewings/", lambda t: {"title": t.pk}),
    ],
)
def test_a_kids_profile_cannot_act_on_a_title_not_for_children(
    token_client, kids_session, kid, heat, kites, path, body
):
    kids_token = token_client(AccessToken.Scope.READ_WRITE, profile=kid)

    for client in (kids_token, kids_session):
        refused = client.post(url(kid, path), body(heat), format="json")
        assert refused.status_code == 404, refused.content
        assert error(refused)["code"] == "not_found"
    assert not kid.ratings.exists() and not kid.feedback.exists()
    assert not kid.list_items.exists() and not kid.viewings.exists()
    allowed = kids_token.post(url(kid, path), body(kites), format="json")
    assert allowed.status_code == 201, allowed.content


def test_a_kids_profile_does_not_see_its_rows_of_titles_not_for_children(
    token_client, kid, heat, kites
):
    hidden = RatingFactory(profile=kid, title=heat)
    shown = RatingFactory(profile=kid, title=kites)
    client = token_client(AccessToken.Scope.READ, profile=kid)

    assert [r["id"] for r in results(client, url(kid, "ratings/"))] == [shown.pk]
    assert client.get(url(kid, f"ratings/{hidden.pk}/")).status_code == 404


def test_another_accounts_objects_are_404_and_stay(api, adult, stranger, heat):
    rating = RatingFactory(profile=stranger, title=heat)
    feedback = FeedbackFactory(profile=stranger, title=heat)
    item = ListItemFactory(profile=stranger, title=heat)
    viewing = ViewingEventFactory(profile=stranger, title=heat, progress=0.3)
    attempts = [
        ("get", url(adult, f"ratings/{rating.pk}/")),
        ("delete", url(adult, f"ratings/{rating.pk}/")),
        ("get", url(adult, f"feedback/{feedback.pk}/")),
        ("delete", url(adult, f"feedback/{feedback.pk}/")),
        ("delete", url(adult, f"my-list/{item.pk}/")),
        ("patch", url(adult, f"viewings/{viewing.pk}/")),
        ("post", url(adult, f"viewings/{viewing.pk}/finish/")),
        ("get", url(stranger, "ratings/")),
        ("delete", url(stranger, f"ratings/{rating.pk}/")),
        ("delete", url(stranger, f"continue-watching/{heat.pk}/")),
        ("post", url(stranger, "my-list/")),
    ]

    for method, address in attempts:
        response = getattr(api, method)(address, {"progress": 1.0}, format="json")
        assert response.status_code == 404, (method, address, response.content)
        assert error(response)["detail"] == "Not found."
    assert Rating.objects.filter(pk=rating.pk).exists()
    assert Feedback.objects.filter(pk=feedback.pk).exists()
    assert ListItem.objects.filter(pk=item.pk).exists()
    viewing.refresh_from_db()
    assert (viewing.progress, viewing.completed, viewing.dismissed) == (
        0.3,
        False,
        False,
    )


def test_a_read_token_cannot_write(token_client, adult, heat):
    rating = RatingFactory(profile=adult, title=heat, value=2.0)
    viewing = ViewingEventFactory(profile=adult, title=heat, progress=0.3)
    reader = token_client(AccessToken.Scope.READ)
    writes = [
        ("post", "ratings/", {"title": heat.pk, "value": 4}),
        ("delete", f"ratings/{rating.pk}/", None),
        ("post", "feedback/", {"title": heat.pk, "kind": "thumbs_up"}),
        ("post", "my-list/", {"title": heat.pk}),
        ("post", "viewings/", {"title": heat.pk}),
        ("patch", f"viewings/{viewing.pk}/", {"progress": 0.9}),
        ("post", f"viewings/{viewing.pk}/finish/", None),
        ("delete", f"continue-watching/{heat.pk}/", None),
    ]

    for method, path, body in writes:
        response = getattr(reader, method)(url(adult, path), body, format="json")
        assert response.status_code == 403, (path, response.content)
        assert error(response)["code"] == "scope_insufficient"
    assert list(Rating.objects.values_list("value", flat=True)) == [2.0]
    assert not Feedback.objects.exists() and not ListItem.objects.exists()
    viewing.refresh_from_db()
    assert (ViewingEvent.objects.count(), viewing.progress) == (1, 0.3)
    assert results(reader, url(adult, "ratings/"))[0]["id"] == rating.pk


def test_a_kids_session_cannot_touch_the_parents_ratings(kids_session, adult, heat):
    rating = RatingFactory(profile=adult, title=heat, value=2.0)

    attempts = [
        kids_session.get(url(adult, "ratings/")),
        kids_session.get(url(adult, f"ratings/{rating.pk}/")),
        kids_session.post(
            url(adult, "ratings/"), {"title": heat.pk, "value": 5}, "json"
        ),
        kids_session.delete(url(adult, f"ratings/{rating.pk}/")),
        kids_session.get(url(adult, "history/")),
    ]

    for response in attempts:
        assert response.status_code == 403, response.content
        assert error(response)["code"] == "profile_not_allowed"
    assert list(Rating.objects.values_list("value", flat=True)) == [2.0]


def test_a_token_without_credentials_is_401(client, adult):
    response = client.get(url(adult, "ratings/"))

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


# --- feedback ----------------------------------------------------------------------


def test_thumbs_replace_each_other_and_undo_removes_them(api, adult, heat):
    up = api.post(
        url(adult, "feedback/"), {"title": heat.pk, "kind": "thumbs_up"}, "json"
    )
    up_again = api.post(
        url(adult, "feedback/"), {"title": heat.pk, "kind": "thumbs_up"}, "json"
    )
    down = api.post(
        url(adult, "feedback/"), {"title": heat.pk, "kind": "thumbs_down"}, "json"
    )

    assert (up.status_code, up_again.status_code, down.status_code) == (201, 200, 201)
    assert up.json()["id"] == up_again.json()["id"]
    listed = results(api, url(adult, "feedback/"))
    assert [(f["id"], f["title"], f["kind"]) for f in listed] == [
        (down.json()["id"], heat.pk, "thumbs_down")
    ]
    undo = api.delete(url(adult, f"feedback/{down.json()['id']}/"))
    assert undo.status_code == 204
    assert results(api, url(adult, "feedback/")) == []


def test_not_interested_and_picks_are_listed_by_kind(api, adult, heat, kites):
    for title, kind in ((heat, "not_interested"), (kites, "pick")):
        response = api.post(
            url(adult, "feedback/"), {"title": title.pk, "kind": kind}, "json"
        )
        assert response.status_code == 201, response.content

    hidden = results(api, url(adult, "feedback/?kind=not_interested"))
    picks = results(api, url(adult, f"feedback/?kind=pick&title={kites.pk}"))
    bad = api.get(url(adult, "feedback/?kind=love"))

    assert [(f["title"], f["kind"]) for f in hidden] == [(heat.pk, "not_interested")]
    assert [(f["title"], f["kind"]) for f in picks] == [(kites.pk, "pick")]
    assert (bad.status_code, error(bad)["attr"]) == (400, "kind")


def test_feedback_of_an_unknown_kind_is_a_400(api, adult, heat):
    response = api.post(
        url(adult, "feedback/"), {"title": heat.pk, "kind": "love"}, "json"
    )

    assert response.status_code == 400
    assert error(response)["attr"] == "kind"
    assert not Feedback.objects.exists()


# --- My List -------------------------------------------------------------------------


def test_my_list_adds_once_lists_and_removes(api, adult, heat, kites):
    added = api.post(url(adult, "my-list/"), {"title": heat.pk}, "json")
    again = api.post(url(adult, "my-list/"), {"title": heat.pk}, "json")
    api.post(url(adult, "my-list/"), {"title": kites.pk}, "json")

    assert (added.status_code, again.status_code) == (201, 200)
    assert added.json()["id"] == again.json()["id"]
    listed = results(api, url(adult, "my-list/"))
    assert [i["title"] for i in listed] == [kites.pk, heat.pk]
    removed = api.delete(url(adult, f"my-list/{added.json()['id']}/"))
    assert removed.status_code == 204
    assert [i["title"] for i in results(api, url(adult, "my-list/"))] == [kites.pk]
    assert api.delete(url(adult, f"my-list/{added.json()['id']}/")).status_code == 404


def test_my_list_pages_by_cursor(api, adult):
    items = [ListItemFactory(profile=adult) for _ in range(3)]

    first = api.get(url(adult, "my-list/?page_size=2")).json()
    second = api.get(first["next"]).json()

    ids = [i["id"] for i in first["results"] + second["results"]]
    assert sorted(ids) == sorted(i.pk for i in items)
    assert second["next"] is None


# --- plays ---------------------------------------------------------------------------


def test_a_play_starts_beats_finishes_and_leaves_continue_watching(api, adult, heat):
    PrivacySettingsFactory(profile=adult, contextual_signals=True)
    started = api.post(
        url(adult, "viewings/"), {"title": heat.pk, "device": "tv"}, "json"
    )
    assert started.status_code == 201, started.content
    play = started.json()
    assert (play["recorded"], play["not_recorded_reason"]) == (True, None)
    assert (play["progress"], play["device"], play["runtime_seconds"]) == (
        0.0,
        "tv",
        7200,
    )

    beat = api.patch(
        url(adult, f"viewings/{play['id']}/"),
        {"progress": 0.5, "seconds_watched": 3000},
        "json",
    )
    assert beat.status_code == 200, beat.content
    assert (beat.json()["progress"], beat.json()["position_seconds"]) == (0.5, 3600)
    row = results(api, url(adult, "continue-watching/"))
    assert [(v["id"], v["title"], v["progress"]) for v in row] == [
        (play["id"], heat.pk, 0.5)
    ]

    finished = api.post(url(adult, f"viewings/{play['id']}/finish/"))
    assert finished.status_code == 200, finished.content
    assert (finished.json()["completed"], finished.json()["progress"]) == (True, 1.0)
    assert results(api, url(adult, "continue-watching/")) == []
    history = results(api, url(adult, "history/"))
    assert [(v["id"], v["completed"], v["seconds_watched"]) for v in history] == [
        (play["id"], True, 6600)
    ]


def test_a_heartbeat_never_goes_back(api, adult, heat):
    viewing = ViewingEventFactory(profile=adult, title=heat, progress=0.6)

    response = api.patch(
        url(adult, f"viewings/{viewing.pk}/"), {"progress": 0.2}, "json"
    )

    assert response.status_code == 200
    assert response.json()["progress"] == 0.6


@pytest.mark.parametrize(
    "body, attr",
    [
        ({}, "non_field_errors"),
        ({"progress": 1.5}, "progress"),
        ({"progress": "0.5"}, "progress"),
        ({"progress": True}, "progress"),
        ({"progress": 10**400}, "progress"),
        ({"seconds_watched": -1}, "seconds_watched"),
        ({"seconds_watched": 2.5}, "seconds_watched"),
        ({"seconds_watched": 10**9}, "seconds_watched"),
    ],
)
def test_a_bad_heartbeat_is_a_400_and_changes_nothing(api, adult, heat, body, attr):
    viewing = ViewingEventFactory(profile=adult, title=heat, progress=0.3)

    response = api.patch(url(adult, f"viewings/{viewing.pk}/"), body, "json")

    assert response.status_code == 400, response.content
    assert error(response)["attr"] == attr
    viewing.refresh_from_db()
    assert (viewing.progress, viewing.seconds_watched) == (0.3, 1500)


def test_a_play_resumes_where_the_last_stopped_unless_asked_to_start_over(
    api, adult, heat
):
    ViewingEventFactory(profile=adult, title=heat, progress=0.4)

    resumed = api.post(url(adult, "viewings/"), {"title": heat.pk}, "json")
    over = api.post(
        url(adult, "viewings/"), {"title": heat.pk, "start": "beginning"}, "json"
    )

    assert (resumed.json()["progress"], resumed.json()["position_seconds"]) == (
        0.4,
        2880,
    )
    assert over.json()["progress"] == 0.0


def test_the_device_is_told_from_the_user_agent_and_kept_only_with_context(
    api, adult, heat
):
    settings = PrivacySettingsFactory(profile=adult, contextual_signals=True)
    phone = api.post(
        url(adult, "viewings/"),
        {"title": heat.pk},
        "json",
        HTTP_USER_AGENT="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Mobile/15E148",
    )
    settings.contextual_signals = False
    settings.save()
    without_context = api.post(
        url(adult, "viewings/"), {"title": heat.pk, "device": "tv"}, "json"
    )

    assert phone.json()["device"] == "mobile"
    assert without_context.status_code == 201
    assert without_context.json()["device"] is None
    stored = ViewingEvent.objects.get(pk=without_context.json()["id"])
    assert stored.device_class == ""


def test_while_history_is_paused_a_play_is_202_and_nothing_is_stored(api, adult, heat):
    PrivacySettingsFactory(profile=adult, pause_viewing_history=True)

    response = api.post(url(adult, "viewings/"), {"title": heat.pk}, "json")

    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["id"], body["recorded"], body["not_recorded_reason"]) == (
        None,
        False,
        "history_paused",
    )
    assert not ViewingEvent.objects.exists()
    assert results(api, url(adult, "history/")) == []


def test_a_heartbeat_after_history_was_paused_is_202_and_not_stored(api, adult, heat):
    viewing = ViewingEventFactory(profile=adult, title=heat, progress=0.3)
    PrivacySettingsFactory(profile=adult, pause_viewing_history=True)

    response = api.patch(
        url(adult, f"viewings/{viewing.pk}/"), {"progress": 0.8}, "json"
    )

    assert response.status_code == 202
    assert (response.json()["recorded"], response.json()["progress"]) == (False, 0.8)
    viewing.refresh_from_db()
    assert viewing.progress == 0.3


def test_a_private_browser_session_keeps_no_play(client, adult, heat):
    from tests.activity.conftest import watch_as

    watch_as(client, adult)
    session = client.session
    session[PRIVATE_SESSION_KEY] = [adult.pk]
    session.save()

    response = client.post(
        url(adult, "viewings/"), {"title": heat.pk}, content_type="application/json"
    )

    assert response.status_code == 202, response.content
    assert response.json()["not_recorded_reason"] == "private_session"
    assert not ViewingEvent.objects.exists()


def test_removing_a_title_from_continue_watching_keeps_its_history(api, adult, heat):
    viewing = ViewingEventFactory(profile=adult, title=heat, progress=0.3)

    removed = api.delete(url(adult, f"continue-watching/{heat.pk}/"))

    assert removed.status_code == 204
    assert results(api, url(adult, "continue-watching/")) == []
    assert [v["id"] for v in results(api, url(adult, "history/"))] == [viewing.pk]
    assert api.delete(url(adult, f"continue-watching/{heat.pk}/")).status_code == 404


def test_history_pages_by_cursor_latest_first(api, adult, heat):
    viewings = [ViewingEventFactory(profile=adult, title=heat) for _ in range(3)]
    for hour, viewing in enumerate(reversed(viewings)):  # the first one latest
        ViewingEvent.objects.filter(pk=viewing.pk).update(
            started_at=viewing.started_at.replace(year=2020, hour=hour)
        )

    first = api.get(url(adult, "history/?page_size=2")).json()
    second = api.get(first["next"]).json()

    ids = [v["id"] for v in first["results"] + second["results"]]
    assert ids == [v.pk for v in viewings]


# --- the contract as published ----------------------------------------------------


def test_a_body_that_is_not_json_is_a_415_and_stores_nothing(api, adult, heat):
    response = api.post(
        url(adult, "ratings/"),
        f"title={heat.pk}&value=4",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 415
    assert error(response)["code"] == "unsupported_media_type"
    assert not Rating.objects.exists()


def test_the_schema_documents_every_status_these_operations_answer(db):
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    profile = "/api/v1/profiles/{profile_id}/"
    expected = {
        ("ratings/", "post"): {"200", "201", "400", "404", "403", "415", "429"},
        ("ratings/{rating_id}/", "delete"): {"204", "404", "403", "429"},
        ("feedback/", "post"): {"200", "201", "400", "404", "429"},
        ("feedback/{feedback_id}/", "delete"): {"204", "404", "429"},
        ("my-list/", "post"): {"200", "201", "400", "404", "429"},
        ("my-list/{item_id}/", "delete"): {"204", "404"},
        ("viewings/", "post"): {"201", "202", "400", "404"},
        ("viewings/{viewing_id}/", "patch"): {"200", "202", "400", "404"},
        ("viewings/{viewing_id}/finish/", "post"): {"200", "202", "404"},
        ("continue-watching/{title_id}/", "delete"): {"204", "404"},
        ("ratings/", "get"): {"200", "400", "401", "403", "404"},
        ("history/", "get"): {"200", "400", "404"},
    }

    for (path, method), statuses in expected.items():
        operation = paths[profile + path][method]
        assert statuses <= set(operation["responses"]), (path, method)
        assert operation["tags"] == ["activity"]
    listed = paths[profile + "ratings/"]["get"]["parameters"]
    assert {"cursor", "page_size", "title"} <= {p["name"] for p in listed}


def test_options_is_a_documented_405_not_a_crash(api, adult):
    for path in ("viewings/", "viewings/1/finish/", "ratings/"):
        response = api.options(url(adult, path))

        assert response.status_code == 405, (path, response.content)
        assert error(response)["code"] == "method_not_allowed"
