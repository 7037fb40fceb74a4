"""Plays of a series' episodes through the API: which episode, and where the
series resumes."""

from catalog.models import Episode
from tests.api.test_activity import error, results, url
from tests.factories import TitleFactory, series_with


def episode(series, season: int, number: int) -> Episode:
    return Episode.objects.get(
        season__title=series, season__number=season, number=number
    )


def test_a_play_of_a_series_names_the_next_episode_and_its_runtime(api, adult):
    series = series_with(2, 3)
    first = api.post(
        url(adult, "viewings/"),
        {"title": series.pk, "episode": episode(series, 1, 2).pk},
        "json",
    )
    api.post(url(adult, f"viewings/{first.json()['id']}/finish/"))

    following = api.post(url(adult, "viewings/"), {"title": series.pk}, "json")

    assert following.status_code == 201, following.content
    body = following.json()
    assert body["episode"] == {
        "id": episode(series, 2, 1).pk,
        "season": 2,
        "number": 1,
        "code": "S2:E1",
        "title": "S2 episode 1",
    }
    assert body["runtime_seconds"] == 50 * 60


def test_continue_watching_and_history_carry_the_episode(api, adult):
    series = series_with(3)
    play = api.post(
        url(adult, "viewings/"),
        {"title": series.pk, "episode": episode(series, 1, 2).pk},
        "json",
    ).json()
    api.patch(url(adult, f"viewings/{play['id']}/"), {"progress": 0.3}, "json")

    row = results(api, url(adult, "continue-watching/"))
    history = results(api, url(adult, "history/"))

    assert [(v["title"], v["episode"]["code"]) for v in row] == [(series.pk, "S1:E2")]
    assert [v["episode"]["code"] for v in history] == ["S1:E2"]


def test_an_episode_of_another_series_is_refused(api, adult):
    series, other = series_with(2), series_with(2)

    response = api.post(
        url(adult, "viewings/"),
        {"title": series.pk, "episode": episode(other, 1, 1).pk},
        "json",
    )

    assert response.status_code == 400
    assert error(response)["attr"] == "episode"
    assert not adult.viewings.exists()


def test_a_film_play_has_no_episode(api, adult):
    film = TitleFactory(runtime_minutes=100)

    body = api.post(url(adult, "viewings/"), {"title": film.pk}, "json").json()

    assert body["episode"] is None
