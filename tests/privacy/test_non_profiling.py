"""The home page's non-profiling switch ("Your rows are … not based on my
activity"): while it is on, the rows are everyone's and no recording path
keeps a profiling signal beyond what the viewer allowed; switching back
resumes both. Every path is driven as a viewer drives it (pages and API)."""

import pytest
from django.urls import reverse

from accounts.models import Profile
from activity.models import Feedback, ListItem, Rating, SearchEvent, ViewingEvent
from activity.services import REFRESH_PROFILE_TASK
from consent import policy
from outbox.models import OutboxMessage
from privacy import registry
from privacy.models import ConsentEvent
from recommendations.models import ProfileCandidates, RowEngagement
from recommendations.services import candidates
from recommendations.services.dataset import training_dataset
from recommendations.services.engagement import ROW_ORIGIN_SESSION_KEY
from tests.activity.conftest import HTMX, watch_as
from tests.factories import (
    PrivacySettingsFactory,
    ProfileFactory,
    RatingFactory,
    TitleFactory,
    ViewingEventFactory,
)
from tests.recommendations.test_home_views import home_rows

pytestmark = pytest.mark.django_db

HOME = reverse("recommendations:home")
SWITCH = reverse("privacy:home_rows_basis")

#: The profile's own tables, as the privacy registry lists them.
PROFILE_TABLES = [e.model for e in registry.ENTRIES if e.owner == "profile"]


def fresh(profile: Profile) -> Profile:
    return Profile.objects.select_related("privacy").get(pk=profile.pk)


def snapshot(profile: Profile) -> dict[str, list]:
    """Every row the profile owns, the consent log and the tasks waiting."""
    tables = {
        model.__name__: list(
            model.objects.filter(profile=profile).order_by("pk").values()
        )
        for model in PROFILE_TABLES
    }
    tables["ConsentEvent"] = list(
        ConsentEvent.objects.filter(user=profile.user).order_by("pk").values()
    )
    tables["OutboxMessage"] = list(
        OutboxMessage.objects.order_by("pk").values("task", "args")
    )
    return tables


def changed(before: dict, after: dict) -> set[str]:
    return {name for name in before if before[name] != after[name]}


def refreshes(profile: Profile) -> int:
    return OutboxMessage.objects.filter(
        task=REFRESH_PROFILE_TASK, args=[profile.pk]
    ).count()


@pytest.fixture
def ada(db) -> Profile:
    # Device and time of day allowed, so a play would keep its device class.
    profile = ProfileFactory(name="Ada")
    PrivacySettingsFactory(profile=profile, contextual_signals=True)
    return fresh(profile)


@pytest.fixture
def titles(db):
    return [TitleFactory(title=f"Film {n}", runtime_minutes=100) for n in range(4)]


@pytest.fixture
def ada_client(client, ada):
    return watch_as(client, ada)


def switch(client, basis: str, *, keep_plays: bool = False, htmx: bool = False):
    data = {"basis": basis}
    if keep_plays:
        data["keep_plays"] = "on"
    return client.post(SWITCH, data, **({"headers": HTMX} if htmx else {}))


# --- what each recording path may write while the switch is on --------------------


def _play(client, profile, title, earlier):
    return client.post(reverse("activity:play", args=[title.pk]), {"start": "resume"})


def _heartbeat(client, profile, title, earlier):
    return client.post(
        reverse("activity:heartbeat", args=[earlier.pk]), {"progress": "0.95"}
    )


def _row_click_then_play(client, profile, title, earlier):
    client.get(reverse("catalog:title", args=[title.pk]), {"row": "top-picks"})
    return client.post(reverse("activity:play", args=[title.pk]), {"start": "resume"})


def _row_click_then_rate(client, profile, title, earlier):
    client.get(reverse("catalog:title", args=[title.pk]), {"row": "trending"})
    return client.post(reverse("activity:rate", args=[title.pk]), {"value": "4.5"})


def _search(client, profile, title, earlier):
    return client.get(reverse("catalog:search"), {"q": "Film"})


def _search_api(client, profile, title, earlier):
    return client.get(
        reverse("api:catalog-api:titles", args=[profile.pk]), {"q": "Film"}
    )


def _play_api(client, profile, title, earlier):
    client.get(
        reverse("api:catalog-api:title", args=[profile.pk, title.pk]),
        {"row": "top-picks"},
    )
    return client.post(
        reverse("api:profile-viewings", args=[profile.pk]),
        {"title": title.pk, "start": "beginning", "device": "tv"},
        content_type="application/json",
    )


def _heartbeat_api(client, profile, title, earlier):
    return client.patch(
        reverse("api:profile-viewing", args=[profile.pk, earlier.pk]),
        {"progress": 0.95},
        content_type="application/json",
    )


def _thumbs(client, profile, title, earlier):
    return client.post(
        reverse("activity:thumbs", args=[title.pk]), {"thumb": "thumbs_up"}
    )


def _not_interested(client, profile, title, earlier):
    return client.post(
        reverse("activity:not_interested", args=[title.pk]), {"action": "add"}
    )


def _my_list(client, profile, title, earlier):
    return client.post(
        reverse("activity:title_my_list", args=[title.pk]), {"action": "add"}
    )


#: Each path, and the only tables it may change while the switch is on: an
#: explicit act is kept as the viewer's own record (and nothing learns from
#: it: no refresh is queued); an implicit one writes nothing at all.
#: A control's receipt (the consent log) is not a profiling signal.
RECEIPT = {"ConsentEvent"}
PATHS = {
    "play": (_play, set()),
    "play progress": (_heartbeat, set()),
    "row click, then play": (_row_click_then_play, set()),
    "row click, then rating": (_row_click_then_rate, {"Rating"}),
    "search": (_search, set()),
    "search (API)": (_search_api, set()),
    "row click, then play (API)": (_play_api, set()),
    "play progress (API)": (_heartbeat_api, set()),
    "thumbs up": (_thumbs, {"Feedback"}),
    "not interested": (_not_interested, {"Feedback"}),
    "My List": (_my_list, {"ListItem"}),
}


@pytest.mark.parametrize("path", PATHS)
def test_while_on_a_recording_path_writes_nothing_it_should_not(
    ada_client, ada, titles, path
):
    earlier = ViewingEventFactory(profile=ada, title=titles[1], progress=0.3)
    assert switch(ada_client, "everyone").status_code == 302
    act, may_change = PATHS[path]
    before = snapshot(ada)

    response = act(ada_client, ada, titles[0], earlier)

    assert response.status_code < 400, response.content[:300]
    after = snapshot(ada)
    if may_change:
        # An explicit control may also leave its receipt in the consent log.
        assert may_change <= changed(before, after) <= may_change | RECEIPT
    else:
        assert changed(before, after) == set()
    assert refreshes(ada) == 0
    assert not ada_client.session.get(ROW_ORIGIN_SESSION_KEY)
    assert ViewingEvent.objects.get(pk=earlier.pk).progress == 0.3


@pytest.mark.parametrize("path", ["play", "row click, then play", "search"])
def test_switching_back_resumes_recording(ada_client, ada, titles, path):
    earlier = ViewingEventFactory(profile=ada, title=titles[1], progress=0.3)
    switch(ada_client, "everyone")
    switch(ada_client, "activity")
    OutboxMessage.objects.all().delete()
    act, _ = PATHS[path]

    act(ada_client, ada, titles[0], earlier)

    if path == "search":
        assert list(SearchEvent.objects.filter(profile=ada).values_list("query")) == [
            ("Film",)
        ]
    else:
        viewing = ViewingEvent.objects.filter(profile=ada, title=titles[0]).get()
        assert viewing.device_class == "desktop"
    if path == "row click, then play":
        assert list(
            RowEngagement.objects.filter(profile=ada).values_list("row_kind", "count")
        ) == [("top-picks", 1)]


def test_a_rating_after_switching_back_refreshes_the_rows_again(
    ada_client, ada, titles
):
    switch(ada_client, "everyone")
    ada_client.post(reverse("activity:rate", args=[titles[0].pk]), {"value": "4"})
    assert refreshes(ada) == 0

    switch(ada_client, "activity")
    OutboxMessage.objects.all().delete()
    ada_client.post(reverse("activity:rate", args=[titles[1].pk]), {"value": "4"})

    assert refreshes(ada) == 1


def test_switching_back_refreshes_the_candidates_with_what_was_kept(ada_client, ada):
    switch(ada_client, "everyone")
    assert refreshes(ada) == 0

    switch(ada_client, "activity")

    assert refreshes(ada) == 1


# --- the sub-option: plays kept for Continue watching ------------------------------


def test_plays_kept_for_continue_watching_only_when_the_viewer_allows(
    ada_client, ada, titles
):
    switch(ada_client, "everyone", keep_plays=True)
    before = snapshot(ada)

    ada_client.post(reverse("activity:play", args=[titles[0].pk]), {"start": "resume"})
    viewing = ViewingEvent.objects.get(profile=ada)
    ada_client.post(
        reverse("activity:heartbeat", args=[viewing.pk]), {"progress": "0.4"}
    )

    assert changed(before, snapshot(ada)) == {"ViewingEvent"}
    viewing.refresh_from_db()
    assert (viewing.progress, viewing.device_class) == (0.4, "")
    continuing = ada_client.get(reverse("activity:continue_watching"))
    assert "Film 0" in continuing.content.decode()
    home = ada_client.get(HOME).content.decode()
    assert f'kept for <a href="{reverse("activity:continue_watching")}">' in home
    assert refreshes(ada) == 0


def test_a_kept_play_finished_while_on_refreshes_nothing(ada_client, ada, titles):
    switch(ada_client, "everyone", keep_plays=True)
    ada_client.post(reverse("activity:play", args=[titles[0].pk]), {"start": "resume"})
    viewing = ViewingEvent.objects.get(profile=ada)

    ada_client.post(reverse("activity:heartbeat", args=[viewing.pk]), {"progress": "1"})

    viewing.refresh_from_db()
    assert viewing.completed
    assert refreshes(ada) == 0


# --- the switch itself ---------------------------------------------------------------


def test_the_switch_is_saved_and_logged_in_the_consent_log(ada_client, ada):
    switch(ada_client, "everyone")
    settings = policy.settings_for(fresh(ada))
    assert (settings.personalization, settings.pause_viewing_history) == (False, True)

    switch(ada_client, "activity")
    settings = policy.settings_for(fresh(ada))
    assert (settings.personalization, settings.pause_viewing_history) == (True, False)

    # Besides each switch's receipt (tests/privacy/test_receipts.py).
    assert list(
        ConsentEvent.objects.filter(user=ada.user)
        .exclude(what__startswith="receipt: ")
        .order_by("id")
        .values_list("what", "old_value", "new_value")
    ) == [
        ("personalization", "on", "off"),
        ("pause_viewing_history", "off", "on"),
        ("personalization", "off", "on"),
        ("pause_viewing_history", "on", "off"),
    ]


@pytest.mark.parametrize(
    "data",
    [{}, {"basis": "nobody"}, {"basis": ""}, {"keep_plays": "on"}],
)
def test_a_bad_choice_is_a_400_that_changes_nothing(ada_client, ada, data):
    before = snapshot(ada)

    response = ada_client.post(SWITCH, data)

    assert response.status_code == 400
    assert snapshot(ada) == before
    assert policy.profiling_on(fresh(ada))


def test_the_switch_is_a_post_of_a_signed_in_profile(client, ada_client, ada):
    assert ada_client.get(SWITCH).status_code == 405
    ada_client.logout()

    response = ada_client.post(SWITCH, {"basis": "everyone"})

    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]
    assert policy.profiling_on(fresh(ada))


def test_the_profile_stays_out_of_training_while_on(ada_client, ada, titles):
    other = ProfileFactory()
    RatingFactory(profile=ada, title=titles[0])
    RatingFactory(profile=other, title=titles[0])
    assert ada.pk in set(training_dataset().users.tolist())

    switch(ada_client, "everyone")

    assert set(training_dataset().users.tolist()) == {other.pk}
    switch(ada_client, "activity")
    assert ada.pk in set(training_dataset().users.tolist())


# --- the rows -------------------------------------------------------------------------


@pytest.fixture
def demo_client(client, demo_viewer):
    return watch_as(client, demo_viewer)


def test_while_on_the_home_serves_everyones_rows_and_offers_both_choices_alike(
    demo_client, demo_viewer
):
    personal = home_rows(demo_client.get(HOME).content.decode())
    assert f"Top picks for {demo_viewer.name}" in personal

    response = switch(demo_client, "everyone", htmx=True)

    page = response.content.decode()
    rows = home_rows(page)
    assert f"Top picks for {demo_viewer.name}" not in rows
    assert not any(name.startswith("Because you") for name in rows)
    assert {"Trending now", "Top 10 today"} <= set(rows)
    assert "these rows are the same for everyone" in page
    # Both choices are drawn the same way; the chosen one is checked.
    assert page.count('class="basis-choice"') == 2
    assert 'value="everyone" id="id_basis_everyone" checked' in page
    anonymous = home_rows(demo_client.__class__().get(HOME).content.decode()).keys()
    assert set(rows) <= set(anonymous) | {"Continue watching", "My List"}


def test_nothing_is_scored_for_the_profile_while_on(demo_client, demo_viewer):
    stored = ProfileCandidates.objects.get(profile=demo_viewer)
    switch(demo_client, "everyone")

    scored = [pk for shard in candidates.candidate_shards() for pk in shard]
    assert demo_viewer.pk not in scored
    assert Profile.objects.exclude(pk=demo_viewer.pk).count() == len(scored)
    assert candidates.profile_refresh(profile_id=demo_viewer.pk) is False
    assert ProfileCandidates.objects.get(profile=demo_viewer).updated_at == (
        stored.updated_at
    )

    switch(demo_client, "activity")
    assert candidates.profile_refresh(profile_id=demo_viewer.pk) is True


def test_switching_back_brings_the_personal_rows_back(demo_client, demo_viewer):
    switch(demo_client, "everyone")

    response = switch(demo_client, "activity", htmx=True)

    rows = home_rows(response.content.decode())
    assert f"Top picks for {demo_viewer.name}" in rows


def test_a_kids_profile_has_no_switch(client, ada):
    kid = ProfileFactory(user=ada.user, name="Kiddo", is_kids=True)
    watch_as(client, kid)

    page = client.get(HOME).content.decode()

    assert 'id="rows-basis"' not in page


def test_the_switch_is_rendered_for_a_grown_up_profile(ada_client):
    page = ada_client.get(HOME).content.decode()

    assert 'id="rows-basis"' in page
    assert "Based on my activity" in page
    assert "Not based on my activity" in page
    assert 'value="activity" id="id_basis_activity" checked' in page
    # Plays are kept in the non-profiling mode only if the viewer ticks it.
    assert 'id="id_keep_plays" aria-describedby' in page


def test_explicit_acts_while_on_are_kept_as_the_viewers_own_record(
    ada_client, ada, titles
):
    switch(ada_client, "everyone")

    ada_client.post(reverse("activity:rate", args=[titles[0].pk]), {"value": "4"})
    ada_client.post(
        reverse("activity:thumbs", args=[titles[1].pk]), {"thumb": "thumbs_down"}
    )
    ada_client.post(
        reverse("activity:title_my_list", args=[titles[2].pk]), {"action": "add"}
    )

    assert Rating.objects.get(profile=ada).value == 4.0
    assert Feedback.objects.get(profile=ada).kind == "thumbs_down"
    assert ListItem.objects.get(profile=ada).title == titles[2]
    assert refreshes(ada) == 0


def test_the_centres_switch_is_the_same_mode(ada_client, ada, titles):
    toggle = reverse("privacy:toggle")
    ada_client.post(toggle, {"setting": "personalization", "value": "off"})
    before = snapshot(ada)

    _search(ada_client, ada, titles[0], None)
    _row_click_then_rate(ada_client, ada, titles[0], None)

    assert changed(before, snapshot(ada)) == {"Rating"}
    assert refreshes(ada) == 0
    ada_client.post(toggle, {"setting": "personalization", "value": "on"})
    assert refreshes(ada) == 1
