"""Hard filters hold on every surface that suggests titles; "show fewer" is soft.

One table of surfaces (the home page's rows of every kind, personal, shared
and a kids profile's; the API's rows and candidates; More like this, on the
title page and through the API; the search suggestions' "For you"; Continue
watching, page and API). For each: a title marked "not interested" (the
title page's button), every title of a hidden genre (the centre's control)
and a hidden title (withdrawn by curators) are gone, while a title marked
"show fewer like this" is still there, ranked lower than before.
"""

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import reverse

from accounts.access import ACTIVE_PROFILE_SESSION_KEY
from accounts.models import Profile
from activity.models import Feedback, Rating
from catalog.models import Genre, Title
from catalog.services import title_curate
from privacy.services import hidden_genres_replace
from recommendations.models import ProfileCandidates
from tests.factories import PrivacySettingsFactory, ProfileFactory, ViewingEventFactory

pytestmark = pytest.mark.django_db

_SECTION = re.compile(
    r'<section class="row home-row home-row-(?P<kind>[\w-]+)" .*?</section>', re.S
)
_CARD = re.compile(r'class="card-link[^"]*" href="/titles/(\d+)/')
_FOR_YOU = re.compile(r'<a id="suggestion-(\d+)" class="suggestion-for-you"')


def _unique(ids) -> list[int]:
    return list(dict.fromkeys(int(t) for t in ids))


@dataclass
class Shown:
    """What a surface shows: titles in the order it ranks them (charts and
    lists in the viewer's own order left out), and every title on it."""

    ranked: list[int]
    every: set[int]


def _home_html(client: Client, profile: Profile, seed: int) -> Shown:
    page = client.get("/").content.decode()
    ranked, every = [], []
    for match in _SECTION.finditer(page):
        ids = _CARD.findall(match[0])
        every += ids
        if match["kind"] not in {"top10", "continue", "my-list", "collection"}:
            ranked += ids
    return Shown(_unique(ranked), set(_unique(every)))


def _home_api(client: Client, profile: Profile, seed: int) -> Shown:
    body = client.get(f"/api/v1/profiles/{profile.pk}/home/").json()
    ranked, every = [], []
    for row in body["rows"]:
        ids = [item["id"] for item in row["items"]]
        every += ids
        if row["kind"] not in {"top10", "continue", "my-list", "collection"}:
            ranked += ids
    return Shown(_unique(ranked), set(every))


def _more_like_this(client: Client, profile: Profile, seed: int) -> Shown:
    url = reverse("recommendations:more_like_this", args=[seed])
    ids = _unique(_CARD.findall(client.get(url, headers={"HX-Request": "true"}).text))
    return Shown(ids, set(ids))


def _more_like_this_api(client: Client, profile: Profile, seed: int) -> Shown:
    url = f"/api/v1/profiles/{profile.pk}/titles/{seed}/more-like-this/"
    ids = [t["id"] for t in client.get(url).json()["titles"]]
    return Shown(ids, set(ids))


def _candidates_api(client: Client, profile: Profile, seed: int) -> Shown:
    ids = client.get(f"/api/v1/profiles/{profile.pk}/candidates/").json()["title_ids"]
    return Shown([], set(ids))  # the model's order, before any re-ranking


def _search_query(profile: Profile) -> str:
    """The genre most of the profile's best candidates share: typing it
    matches many of them (genre names are searched)."""
    top = ProfileCandidates.objects.get(profile=profile).title_ids[:30]
    names = Counter(
        Title.genres.through.objects.filter(title_id__in=top).values_list(
            "genre__name", flat=True
        )
    )
    return names.most_common(1)[0][0]


def _suggestions(client: Client, profile: Profile, seed: int) -> Shown:
    response = client.get(
        reverse("catalog:search"),
        {"q": _search_query(profile)},
        headers={"HX-Request": "true", "HX-Target": "search-suggestions"},
    )
    ids = _unique(_FOR_YOU.findall(response.text))
    return Shown(ids, set(ids))


def _continue_html(client: Client, profile: Profile, seed: int) -> Shown:
    ids = _unique(_CARD.findall(client.get(reverse("activity:continue_watching")).text))
    return Shown([], set(ids))  # most recent first: not a ranking


def _continue_api(client: Client, profile: Profile, seed: int) -> Shown:
    body = client.get(f"/api/v1/profiles/{profile.pk}/continue-watching/").json()
    ids = [v["title"] for v in body["results"]]
    return Shown([], set(ids))


def _personal(profile: Profile) -> Profile:
    return profile


def _not_personal(profile: Profile) -> Profile:
    PrivacySettingsFactory(profile=profile, personalization=False)
    return profile


def _kids(profile: Profile) -> Profile:
    return ProfileFactory(user=profile.user, name="Kid", is_kids=True)


def _watching_many(profile: Profile) -> Profile:
    """Eight more titles in progress, so Continue watching has a choice."""
    seen = set(Rating.objects.filter(profile=profile).values_list("title", flat=True))
    for title in Title.objects.exclude(pk__in=seen).order_by("-id")[:8]:
        ViewingEventFactory(profile=profile, title=title, progress=0.4)
    return profile


@dataclass(frozen=True)
class Surface:
    name: str
    shown: Callable[[Client, Profile, int], Shown]
    who: Callable[[Profile], Profile] = _personal


SURFACES = [
    Surface("home rows, personal", _home_html),
    Surface("home rows, personalization off", _home_html, _not_personal),
    Surface("home rows, kids profile", _home_html, _kids),
    Surface("API home rows, personal", _home_api),
    Surface("API home rows, personalization off", _home_api, _not_personal),
    Surface("API candidates", _candidates_api),
    Surface("More like this (title page)", _more_like_this),
    Surface("API more like this", _more_like_this_api),
    Surface("search suggestions: For you", _suggestions),
    Surface("Continue watching page", _continue_html, _watching_many),
    Surface("API continue watching", _continue_api, _watching_many),
]


def _use(client: Client, profile: Profile) -> None:
    client.force_login(profile.user)
    session = client.session
    session[ACTIVE_PROFILE_SESSION_KEY] = profile.pk
    session.save()


def _position(ids: list[int], title_id: int) -> int:
    return ids.index(title_id) if title_id in ids else len(ids)


@pytest.mark.parametrize("surface", SURFACES, ids=[s.name for s in SURFACES])
def test_hard_filters_hold_and_show_fewer_only_moves_down(
    client: Client, demo_viewer: Profile, on_commit, surface: Surface
):
    profile = surface.who(demo_viewer)
    _use(client, profile)
    seed = (
        Rating.objects.filter(profile=demo_viewer).order_by("-value", "id").first()
    ).title_id
    before = surface.shown(client, profile, seed)
    assert len(before.every) >= 3, f"{surface.name} shows too little to test"

    # "Show fewer like this" on a title near the top: still shown, lower.
    ranked = before.ranked or sorted(before.every)
    fewer = ranked[1] if len(ranked) > 1 else ranked[0]
    response = client.post(
        reverse("activity:show_fewer", args=[fewer]), {"action": "add"}
    )
    assert response.status_code == 302
    assert Feedback.objects.filter(
        profile=profile, title_id=fewer, kind=Feedback.Kind.SHOW_FEWER
    ).exists()
    softened = surface.shown(client, profile, seed)
    assert client.get(reverse("catalog:title", args=[fewer])).status_code == 200
    if surface.shown is not _suggestions:  # three slots: it may leave them
        assert fewer in softened.every
    if before.ranked:
        assert _position(softened.ranked, fewer) > _position(before.ranked, fewer)

    # The hard filters: a "not interested" title, a hidden genre, a hidden title.
    others = [t for t in (softened.ranked or sorted(softened.every)) if t != fewer]
    not_interested, withdrawn = others[0], others[1]
    fewer_genres = set(Genre.objects.filter(titles=fewer).values_list("pk", flat=True))
    genre = (
        Genre.objects.filter(titles__in=others[2:])
        .exclude(pk__in=fewer_genres)
        .order_by("id")
        .first()
    )
    assert genre is not None
    of_genre = set(genre.titles.values_list("pk", flat=True))
    assert of_genre & softened.every  # the genre was on the surface

    response = client.post(
        reverse("activity:not_interested", args=[not_interested]), {"action": "add"}
    )
    assert response.status_code == 302
    hidden_genres_replace(profile=profile, genres=[genre])
    with on_commit():
        title_curate(titles=[Title.objects.get(pk=withdrawn)], is_available=False)

    after = surface.shown(client, profile, seed)
    assert not_interested not in after.every
    assert withdrawn not in after.every
    assert not (of_genre & after.every)
    if surface.shown is not _suggestions:
        assert fewer in after.every
    assert after.every, f"{surface.name} shows nothing at all"

    # Undo: "show fewer" goes, the title is back where it was ranked.
    client.post(reverse("activity:show_fewer", args=[fewer]), {"action": "remove"})
    assert not Feedback.objects.filter(
        profile=profile, kind=Feedback.Kind.SHOW_FEWER
    ).exists()


def test_show_fewer_sits_by_not_interested_is_counted_exported_and_undone(
    client: Client, demo_viewer: Profile
):
    """The soft control is a button next to "Not interested" on the title
    page, is held as feedback (counted in the centre, in the export), is
    listed in the centre with an undo, and never feeds training."""
    from privacy import exports, selectors

    _use(client, demo_viewer)
    title = Title.objects.exclude(ratings__profile=demo_viewer).order_by("id").first()
    panel = client.get(
        reverse("activity:title_actions", args=[title.pk]),
        headers={"HX-Request": "true"},
    ).text
    assert f'id="not-interested-button-{title.pk}"' in panel
    assert f'id="show-fewer-button-{title.pk}"' in panel
    assert "Show fewer like this</button>" in panel

    answer = client.post(
        reverse("activity:show_fewer", args=[title.pk]),
        {"action": "add"},
        headers={"HX-Request": "true"},
    ).text
    assert "Fewer like this in your rows." in answer
    assert 'name="action" value="remove">Undo</button>' in answer

    holdings = {
        h.key: h.count
        for h in selectors.inventory(demo_viewer.user)
        .for_profile(demo_viewer.pk)
        .holdings
    }
    assert holdings["feedback_show_fewer"] == 1
    feedback_part = next(p for p in exports.export_parts() if p.name == "feedback")
    exported = [
        row
        for row in feedback_part.rows(demo_viewer.user)
        if row["kind"] == Feedback.Kind.SHOW_FEWER
    ]
    assert [row["title_id"] for row in exported] == [title.pk]

    page = client.get(reverse("privacy:centre"), {"profile": demo_viewer.pk}).text
    assert "Fewer like these" in page
    (feedback,) = Feedback.objects.filter(
        profile=demo_viewer, kind=Feedback.Kind.SHOW_FEWER
    )
    undo = reverse("privacy:show_fewer_undo", args=[feedback.pk])
    assert undo in page
    assert client.post(undo).status_code == 302
    assert not Feedback.objects.filter(
        profile=demo_viewer, kind=Feedback.Kind.SHOW_FEWER
    ).exists()


def test_show_fewer_is_not_a_training_signal(db):
    """A "show fewer" on a title nobody else touched adds no training row
    (and the dataset is still built)."""
    from recommendations.services import dataset
    from tests.factories import FeedbackFactory, TitleFactory

    profile = ProfileFactory()
    FeedbackFactory(
        profile=profile, title=TitleFactory(), kind=Feedback.Kind.SHOW_FEWER
    )
    assert len(dataset.training_dataset().users) == 0
    (history,) = dataset.profile_histories([profile.pk])
    assert len(history.items) == 0
