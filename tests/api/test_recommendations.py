"""The recommender through the API: the home page as JSON (the HTML home's rows,
from the same builders), "Why this?", More like this, onboarding's titles,
stored candidates, and staff's model versions."""

import html
import re

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.access import ACTIVE_PROFILE_SESSION_KEY
from accounts.models import AccessToken, Profile
from accounts.services import token_create
from activity import services as activity_services
from activity.models import Feedback
from catalog import selectors as catalog_selectors
from catalog.models import Title
from consent.models import PrivacySettings
from privacy.models import ConsentEvent
from recommendations.home.why import why_this
from recommendations.models import ModelVersion
from recommendations.services import training
from tests.api.test_foundation import assert_error

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
_SECTION = re.compile(
    r'<section class="row home-row home-row-(?P<kind>[\w-]+)" '
    r'aria-labelledby="row-(?P<key>[\w-]+)">(?P<body>.*?)</section>',
    re.S,
)
_CARD = re.compile(
    r'<img class="card-poster" src="(?P<poster>[^"]*)" alt="(?P<title>[^"]*)".*?'
    r'<span class="card-meta">(?P<meta>.*?)</span>\s*</a>',
    re.S,
)


def _text(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


def html_rows(page: str) -> list[dict]:
    """Each row of the HTML home: kind, heading, reason, and its cards'
    title, poster and meta line, in the page's order."""
    rows = []
    for section in _SECTION.finditer(page):
        body = section["body"]
        rows.append(
            {
                "kind": section["kind"],
                "title": _text(re.search(r'<h2 id="row-[\w-]+">(.*?)</h2>', body)[1]),
                "reason": _text(re.search(r'<p class="row-reason">(.*?)</p>', body)[1]),
                "items": [
                    (
                        html.unescape(c["title"]),
                        html.unescape(c["poster"]),
                        _text(c["meta"]),
                    )
                    for c in _CARD.finditer(body)
                ],
            }
        )
    return rows


def json_rows(body: dict) -> list[dict]:
    """The same, from the API's home page (a card's meta line: "New on
    Marquee" when new, then its match, else its caption, else its year)."""

    def meta(item: dict) -> str:
        new = "New on Marquee " if item["new"] else ""
        if item["match"] is not None:
            return f"{new}{item['match']}% match"
        return new + (item["caption"] or (str(item["year"]) if item["year"] else ""))

    return [
        {
            "kind": row["kind"],
            "title": row["title"],
            "reason": row["reason"],
            "items": [
                (i["title"], i["poster_url"].removeprefix(SERVER), meta(i))
                for i in row["items"]
            ],
        }
        for row in body["rows"]
    ]


#: The API gives absolute URLs; the page, paths.
SERVER = "http://testserver"


def browser_on(profile: Profile) -> Client:
    client = Client()
    client.force_login(profile.user)
    session = client.session
    session[ACTIVE_PROFILE_SESSION_KEY] = profile.pk
    session.save()
    return client


def program_for(profile: Profile, scope=AccessToken.Scope.READ) -> APIClient:
    """A program with a token of the profile's account."""
    _, secret = token_create(user=profile.user, name="tv", scope=scope)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def home_url(profile: Profile) -> str:
    return reverse("api:profile-home", args=[profile.pk])


def why_url(profile: Profile, title: Title) -> str:
    return reverse("api:title-why", args=[profile.pk, title.pk])


def more_url(profile: Profile, title: Title) -> str:
    return reverse("api:title-more-like-this", args=[profile.pk, title.pk])


@pytest.fixture
def viewer(demo_viewer: Profile) -> Profile:
    """A demo viewer with ratings and a viewing in progress."""
    return demo_viewer


def assert_invalid(response, attr: str) -> None:
    """A 400 in the one error shape, naming ``attr`` alone."""
    body = assert_error(response, 400, response.json()["errors"][0]["code"])
    assert body["type"] == "validation_error"
    assert [error["attr"] for error in body["errors"]] == [attr]


def rows_by_title(body: dict) -> dict[str, dict]:
    return {row["title"]: row for row in body["rows"]}


def rows_by_title_json(body: dict) -> dict[str, dict]:
    """:func:`json_rows` by heading."""
    return {row["title"]: row for row in json_rows(body)}


# --- the home page: the HTML's rows ------------------------------------------------


def test_the_home_is_the_html_homes_rows_in_order_with_reasons_and_matches(viewer):
    # The API builds first, the browser builds again: two builds, one answer.
    response = program_for(viewer).get(home_url(viewer))
    page = browser_on(viewer).get(reverse("recommendations:home")).content.decode()

    assert response.status_code == 200, response.content
    body = response.json()
    assert json_rows(body) == html_rows(page)
    names = [row["title"] for row in body["rows"]]
    assert names[:2] == ["Continue watching", f"Top picks for {viewer.name}"]
    assert any(name.startswith("Because you rated ") for name in names)
    assert body["personalized"] is True
    assert body["note"] == ""
    assert body["controls"] == {"exploration": 20, "calibration": True}
    top = body["rows"][1]["items"]
    assert all(0 <= item["match"] <= 100 for item in top)
    assert body["rows"][0]["items"][0]["progress"] == 30
    assert body["rows"][0]["items"][0]["viewing"] is not None
    assert body["bubble"] and body["bubble"][0]["shown"] > 0


def test_every_card_has_the_why_this_sentences_of_the_site(viewer):
    body = program_for(viewer).get(home_url(viewer)).json()
    browser = browser_on(viewer)

    # Each card's, from the row it sits in: the card's link names its row.
    for row in body["rows"][:3]:
        item = row["items"][0]
        title = Title.objects.get(pk=item["id"])
        popover = browser.get(
            reverse("recommendations:why", args=[title.pk]),
            {"row": row["key"]},
            headers=HTMX,
        ).content.decode()
        shown = [_text(li) for li in re.findall(r"<li>(.*?)</li>", popover, re.S)]
        assert item["why"] == shown
        assert shown == why_this(profile=viewer, title=title, row=row["key"])
        assert item["why"]
    top_pick = body["rows"][1]["items"][0]
    assert top_pick["why"][0].startswith("We predict you’d rate it")


def test_why_and_more_like_this_agree_with_the_site(viewer):
    client = program_for(viewer)
    browser = browser_on(viewer)
    title = Title.objects.get(
        pk=rows_by_title(client.get(home_url(viewer)).json())[
            f"Top picks for {viewer.name}"
        ]["items"][0]["id"]
    )

    why = client.get(why_url(viewer, title))
    more = client.get(more_url(viewer, title))

    assert why.status_code == 200
    assert why.json() == {
        "title": title.pk,
        "reasons": why_this(profile=viewer, title=title),
    }
    in_row = client.get(why_url(viewer, title), {"row": "top-picks"}).json()
    assert in_row["reasons"] == why_this(profile=viewer, title=title, row="top-picks")
    assert in_row["reasons"][0].startswith("We predict you’d rate it")
    assert more.status_code == 200
    row = browser.get(
        reverse("recommendations:more_like_this", args=[title.pk]), headers=HTMX
    ).content.decode()
    shown = [html.unescape(t) for t in re.findall(r'alt="([^"]*)"', row)]
    body = more.json()
    assert body["source"] == "model"
    assert [t["title"] for t in body["titles"]] == shown
    assert len(shown) > 5
    rated = set(viewer.ratings.values_list("title_id", flat=True))
    assert not rated & {t["id"] for t in body["titles"]}


# --- what the controls set ------------------------------------------------------------


def test_a_mood_reranks_as_the_html_chip_does(viewer):
    client = program_for(viewer)
    top = f"Top picks for {viewer.name}"
    plain = rows_by_title(client.get(home_url(viewer)).json())[top]

    body = client.get(home_url(viewer), {"mood": "light-short"}).json()

    page = (
        browser_on(viewer)
        .get(reverse("recommendations:home"), {"mood": "light-short"})
        .content.decode()
    )
    assert json_rows(body) == html_rows(page)
    moody = rows_by_title(body)[top]
    assert moody["reason"].endswith("Mood: Light & short.")
    assert [i["id"] for i in moody["items"]] != [i["id"] for i in plain["items"]]
    assert body["mood"] == "light-short"
    assert {"key": "light-short", "label": "Light & short"} in body["moods"]


def test_exploration_and_calibration_change_the_rows_as_the_saved_controls_do(viewer):
    client = program_for(viewer)
    top = f"Top picks for {viewer.name}"

    asked = client.get(home_url(viewer), {"exploration": 80, "calibration": "false"})

    assert asked.status_code == 200
    body = asked.json()
    assert body["controls"] == {"exploration": 80, "calibration": False}
    assert rows_by_title(body)[top]["reason"] == (
        "Ranked for you from your ratings, plays and picks, with plenty of variety."
    )
    # Nothing was saved...
    assert not PrivacySettings.objects.filter(profile=viewer).exists()
    assert not ConsentEvent.objects.exists()
    # ...and the site's controls, once saved, give the very same rows.
    browser = browser_on(viewer)
    browser.post(
        reverse("privacy:home_controls"), {"exploration": "80"}
    )  # calibration unchecked
    page = browser.get(reverse("recommendations:home")).content.decode()
    saved = {row["title"]: row for row in html_rows(page)}
    assert saved[top] == rows_by_title_json(body)[top]
    assert client.get(home_url(viewer)).json()["controls"] == body["controls"]


def test_calibration_asked_for_says_so_in_top_picks(viewer):
    PrivacySettings.objects.update_or_create(
        profile=viewer, defaults={"calibration": False}
    )
    client = program_for(viewer)
    top = f"Top picks for {viewer.name}"

    off = rows_by_title(client.get(home_url(viewer)).json())[top]
    on = rows_by_title(client.get(home_url(viewer), {"calibration": "true"}).json())[
        top
    ]

    assert "in the genre mix of your history" not in off["reason"]
    assert "in the genre mix of your history" in on["reason"]


def test_the_hour_and_device_count_only_where_contextual_signals_are_on(viewer):
    client = program_for(viewer)
    top = f"Top picks for {viewer.name}"

    def top_picks(**params) -> str:
        response = client.get(home_url(viewer), params)
        assert response.status_code == 200
        return rows_by_title(response.json())[top]["reason"]

    assert "shorter titles first" not in top_picks(hour=23)

    PrivacySettings.objects.update_or_create(
        profile=viewer, defaults={"contextual_signals": True}
    )
    assert top_picks(hour=23).endswith("Because it's late: shorter titles first.")
    assert top_picks(hour=12, device="mobile").endswith(
        "Because you're on your phone: shorter titles first."
    )
    assert "shorter titles first" not in top_picks(hour=12, device="tv")


@pytest.mark.parametrize(
    ("params", "attr"),
    [
        ({"mood": "sleepy"}, "mood"),
        ({"exploration": "150"}, "exploration"),
        ({"exploration": "-1"}, "exploration"),
        ({"exploration": "1.5"}, "exploration"),
        ({"exploration": "lots"}, "exploration"),
        ({"calibration": "maybe"}, "calibration"),
        ({"hour": "24"}, "hour"),
        ({"device": "fridge"}, "device"),
    ],
)
def test_bad_control_values_are_a_400_naming_the_parameter(viewer, params, attr):
    assert_invalid(program_for(viewer).get(home_url(viewer), params), attr)


# --- the rows everyone gets -------------------------------------------------------------


def test_personalization_off_gives_everyones_rows_and_says_why(viewer):
    PrivacySettings.objects.update_or_create(
        profile=viewer, defaults={"personalization": False}
    )

    body = program_for(viewer).get(home_url(viewer)).json()

    page = browser_on(viewer).get(reverse("recommendations:home")).content.decode()
    assert json_rows(body) == html_rows(page)
    assert body["personalized"] is False
    assert body["note"].startswith(f"Personalized rows are off for {viewer.name}")
    assert body["rows"][0]["title"] == "Trending now"
    assert all(i["match"] is None for row in body["rows"] for i in row["items"])
    assert body["bubble"] == []
    first = body["rows"][0]["items"][0]
    assert first["why"][-1] == (
        "Your personalized rows are off, so nothing you did chose it."
    )


def test_a_new_profile_and_a_site_without_a_model_get_everyones_rows(
    demo_catalog, account, adult, api, on_commit
):
    without_model = api.get(home_url(adult)).json()

    assert without_model["note"].startswith("Personal recommendations aren’t ready yet")
    assert without_model["personalized"] is False
    assert without_model["rows"][0]["title"] == "Trending now"

    with on_commit():
        training.model_train(params={"n_factors": 10, "n_epochs": 5, "random_state": 0})
    new = api.get(home_url(adult)).json()

    assert new["note"].startswith("Marquee doesn’t know what Ada likes yet")
    page = browser_on(adult).get(reverse("recommendations:home")).content.decode()
    assert json_rows(new) == html_rows(page)


# --- kids ------------------------------------------------------------------------------------


@pytest.fixture
def kid_with_taste(trained, kid, on_commit) -> Profile:
    """A kids profile that rated a few of the titles it may see."""
    for title in Title.objects.for_profile(kid).order_by("id")[:4]:
        with on_commit():
            activity_services.rating_upsert(profile=kid, title=title, value=4.5)
    return kid


def test_a_kids_profile_gets_the_kids_rows_and_nothing_not_for_kids(
    kid_with_taste, token_client
):
    kid = kid_with_taste
    client = token_client(AccessToken.Scope.READ, profile=kid)

    body = client.get(home_url(kid)).json()

    shown = {i["id"] for row in body["rows"] for i in row["items"]}
    assert body["personalized"] is True
    assert shown and shown <= set(
        Title.objects.for_profile(kid).values_list("pk", flat=True)
    )
    assert not Title.objects.filter(pk__in=shown, maturity_rating="R").exists()
    assert Title.objects.filter(maturity_rating="R").exists()
    assert body["controls"] is None
    page = browser_on(kid).get(reverse("recommendations:home")).content.decode()
    assert json_rows(body) == html_rows(page)


def test_a_kids_profile_asking_about_a_title_not_for_kids_is_a_404(
    kid_with_taste, token_client
):
    kid = kid_with_taste
    client = token_client(AccessToken.Scope.READ, profile=kid)
    r_rated = Title.objects.filter(maturity_rating="R").first()
    fine = Title.objects.for_profile(kid).first()

    assert_error(client.get(why_url(kid, r_rated)), 404, "not_found")
    assert_error(client.get(more_url(kid, r_rated)), 404, "not_found")
    assert client.get(why_url(kid, fine)).status_code == 200
    more = client.get(more_url(kid, fine)).json()
    shown = {t["id"] for t in more["titles"]}
    assert shown <= set(Title.objects.for_profile(kid).values_list("pk", flat=True))


def test_a_kids_session_may_not_read_the_grown_ups_home(
    kids_session, adult, kid, demo_catalog
):
    assert_error(kids_session.get(home_url(adult)), 403, "profile_not_allowed")
    assert kids_session.get(home_url(kid)).status_code == 200


def test_another_accounts_profile_is_a_404_everywhere(api, stranger, demo_catalog):
    title = Title.objects.first()
    for url in [
        home_url(stranger),
        why_url(stranger, title),
        more_url(stranger, title),
        reverse("api:onboarding-candidates", args=[stranger.pk]),
        reverse("api:profile-candidates", args=[stranger.pk]),
    ]:
        assert_error(api.get(url), 404, "not_found")


def test_an_unknown_title_is_a_404_that_names_no_model(api, adult, demo_catalog):
    missing = Title(pk=10**9)
    body = assert_error(api.get(why_url(adult, missing)), 404, "not_found")
    assert "Title" not in body["errors"][0]["detail"]


# --- onboarding ---------------------------------------------------------------------------


def test_onboarding_offers_the_sites_sets_and_shows_picks(api, adult, demo_catalog):
    url = reverse("api:onboarding-candidates", args=[adult.pk])
    first = catalog_selectors.onboarding_set(profile=adult, number=1)
    picked = first.titles[2]
    Feedback.objects.create(profile=adult, title=picked, kind=Feedback.Kind.PICK)

    body = api.get(url).json()

    assert [t["id"] for t in body["titles"]] == [t.pk for t in first.titles]
    assert [t["id"] for t in body["titles"] if t["picked"]] == [picked.pk]
    assert body["set"] == 1
    assert body["sets"] == first.count > 1
    assert body["next_set"] == 2
    assert (body["picks"], body["min_picks"], body["can_finish"]) == (1, 3, False)
    second = api.get(url, {"set": body["next_set"]}).json()
    assert [t["id"] for t in second["titles"]] == [
        t.pk for t in catalog_selectors.onboarding_set(profile=adult, number=2).titles
    ]
    page = browser_on(adult).get(reverse("catalog:onboarding")).content.decode()
    assert [int(t) for t in re.findall(r'id="pick-(\d+)"', page)] == [
        t["id"] for t in body["titles"]
    ]


@pytest.mark.parametrize("number", ["0", "999", "1.5", "two"])
def test_an_onboarding_set_that_does_not_exist_is_a_400(
    api, adult, demo_catalog, number
):
    url = reverse("api:onboarding-candidates", args=[adult.pk])

    assert_invalid(api.get(url, {"set": number}), "set")


def test_a_kids_profiles_onboarding_is_kids_titles_only(
    token_client, kid, demo_catalog
):
    client = token_client(AccessToken.Scope.READ, profile=kid)
    body = client.get(reverse("api:onboarding-candidates", args=[kid.pk])).json()

    shown = {t["id"] for t in body["titles"]}
    assert shown
    assert shown <= set(Title.objects.for_profile(kid).values_list("pk", flat=True))


# --- stored candidates -------------------------------------------------------------------


def test_candidates_before_and_after_scoring(trained, api, adult, on_commit):
    # The profile is made after the model scored everyone: nothing stored yet.
    url = reverse("api:profile-candidates", args=[adult.pk])

    assert api.get(url).json() == {
        "model_version": None,
        "updated_at": None,
        "title_ids": [],
        "predicted": [],
    }

    titles = list(Title.objects.filter(ratings__isnull=False).distinct()[:3])
    for title in titles:
        with on_commit():
            activity_services.feedback_add(
                profile=adult, title=title, kind=Feedback.Kind.PICK
            )
    body = api.get(url).json()

    assert body["model_version"] == trained.pk
    assert len(body["title_ids"]) == len(body["predicted"]) > 10
    assert body["updated_at"]


# --- model versions (staff) -------------------------------------------------------------


@pytest.fixture
def staff(account):
    account.is_staff = True
    account.save(update_fields=["is_staff"])
    return account


def _second_version(trained: ModelVersion, **changes) -> ModelVersion:
    version = training.model_train(
        params={"n_factors": 5, "n_epochs": 2, "random_state": 1}, force=True
    )
    version.metrics["ranking"]["ndcg@10"] = trained.ndcg * changes.get("ndcg", 1.0)
    version.metrics["rating"]["rmse"] = trained.rmse
    version.status = ModelVersion.Status.READY
    version.save()
    ModelVersion.objects.filter(pk=trained.pk).update(status=ModelVersion.Status.ACTIVE)
    return version


def test_model_versions_are_staff_only(trained, api, token_client, staff):
    urls = [
        ("get", reverse("api:model-version-list")),
        ("get", reverse("api:model-version-detail", args=[trained.pk])),
        ("post", reverse("api:model-version-promote", args=[trained.pk])),
        ("post", reverse("api:model-version-rollback", args=[trained.pk])),
        ("post", reverse("api:model-version-train")),
    ]
    staff.is_staff = False
    staff.save(update_fields=["is_staff"])
    for method, url in urls:
        assert_error(getattr(api, method)(url), 403, "staff_only")

    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    read = token_client(AccessToken.Scope.READ)
    for method, url in urls:
        assert_error(getattr(read, method)(url), 403, "account_access_required")
    assert ModelVersion.objects.get().status == ModelVersion.Status.ACTIVE


def test_staff_list_and_read_model_versions(trained, api, staff, on_commit):
    with on_commit():
        second = _second_version(trained)

    listed = api.get(reverse("api:model-version-list"))
    detail = api.get(reverse("api:model-version-detail", args=[trained.pk]))

    assert listed.status_code == 200
    body = listed.json()
    assert [v["id"] for v in body["results"]] == [second.pk, trained.pk]
    assert [v["active"] for v in body["results"]] == [False, True]
    assert body["next"] is None
    assert detail.json()["algorithm"] == trained.algorithm
    assert detail.json()["ndcg"] == trained.ndcg
    assert detail.json()["status"] == "active"
    ready = api.get(reverse("api:model-version-list"), {"status": "ready"}).json()
    assert [v["id"] for v in ready["results"]] == [second.pk]
    assert_error(
        api.get(reverse("api:model-version-list"), {"status": "sleeping"}),
        400,
        "invalid_choice",
    )
    assert_error(
        api.get(reverse("api:model-version-detail", args=[10**6])), 404, "not_found"
    )


def test_promote_and_roll_back_change_the_active_version(
    trained, api, staff, on_commit
):
    with on_commit():
        second = _second_version(trained)

    with on_commit():
        promoted = api.post(reverse("api:model-version-promote", args=[second.pk]))

    assert promoted.status_code == 200, promoted.content
    assert promoted.json()["active"] is True
    assert training.active_version() == second

    with on_commit():
        back = api.post(reverse("api:model-version-rollback", args=[trained.pk]))

    assert back.status_code == 200
    assert training.active_version() == trained
    second.refresh_from_db()
    assert second.status == ModelVersion.Status.RETIRED


def test_a_regressing_version_is_refused_with_a_409_and_nothing_changes(
    trained, api, staff, on_commit
):
    with on_commit():
        worse = _second_version(trained, ndcg=0.5)

    response = api.post(reverse("api:model-version-promote", args=[worse.pk]))

    body = assert_error(response, 409, "promotion_refused")
    assert "regresses" in body["errors"][0]["detail"]
    assert training.active_version() == trained
    with on_commit():
        forced = api.post(reverse("api:model-version-rollback", args=[worse.pk]))
    assert forced.status_code == 200
    assert training.active_version() == worse


def test_train_now_queues_a_training_as_the_admin_does(
    trained, api, staff, enqueued, on_commit
):
    with on_commit():
        response = api.post(reverse("api:model-version-train"))

    assert response.status_code == 202
    assert enqueued == [("recommendations.tasks.train_model", (None, False, True))]


def test_train_now_while_a_training_runs_is_a_409(trained, api, staff, enqueued):
    with training.training_lease(algorithm="svd", parameters={}):
        response = api.post(reverse("api:model-version-train"))

    assert_error(response, 409, "training_running")
    assert enqueued == []
