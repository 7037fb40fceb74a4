"""Property tests: whatever a client sends to the rating, feedback, search,
viewing and erasure inputs (pages and API), the answer is never a 5xx, an API
answer is always JSON, and a refused request (4xx) changes nothing in the
database (issue #13).

Text is drawn from all of Unicode, lone surrogates and NUL included, and sent
as a browser or a program would encode it (UTF-8, surrogates passed through
as the invalid bytes they make); JSON bodies are drawn as documents of any
shape, as raw bytes, and nested at any depth.
"""

import json
from collections.abc import Callable
from urllib.parse import quote_plus

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from accounts.models import Profile
from activity.models import Feedback, Rating, SearchEvent
from catalog.models import Title
from privacy import registry
from tests.factories import ViewingEventFactory
from tests.security.snapshot import database_snapshot

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"

#: Any character: ordinary text, NUL, lone surrogates, the replacement character.
characters = st.one_of(
    st.characters(),
    st.characters(categories=["Cs"]),
    st.sampled_from("\x00\ufffd\u202e"),
)
# (st.text() leaves lone surrogates out whatever its alphabet: hence a list.)
any_text = st.one_of(
    st.text(max_size=20), st.lists(characters, max_size=20).map("".join)
)


def plausible(*values: object) -> st.SearchStrategy[str]:
    """Text a form might carry: one of ``values``, a number, or anything."""
    return st.one_of(
        st.sampled_from([str(v) for v in values]),
        st.integers(-(2**63), 2**64).map(str),
        st.floats().map(str),
        any_text,
    )


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(),  # NaN and infinities too (json.dumps writes them bare)
    any_text,
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(any_text, inner, max_size=3),
    ),
    max_leaves=8,
)


def encoded(text: str) -> bytes:
    """``text`` as UTF-8, a lone surrogate as the invalid bytes it makes."""
    return text.encode("utf-8", "surrogatepass")


def form_body(fields: dict[str, str]) -> str:
    return "&".join(
        f"{quote_plus(encoded(key))}={quote_plus(encoded(value))}"
        for key, value in fields.items()
    )


def json_body(draw: Callable, fields: dict[str, st.SearchStrategy]) -> str | bytes:
    """A JSON body: an object with ``fields`` (each drawn as given, or any
    value, or left out), any document, bytes, or a deeply nested array."""
    kind = draw(st.sampled_from(["object"] * 4 + ["document", "bytes", "deep"]))
    if kind == "object":
        document = {}
        for name, strategy in fields.items():
            if draw(st.integers(0, 3)):  # mostly there
                document[name] = draw(st.one_of(strategy, any_text, json_values))
        document.update(draw(st.dictionaries(any_text, json_values, max_size=2)))
        return json.dumps(document)
    if kind == "document":
        return json.dumps(draw(json_values))
    if kind == "bytes":
        return draw(st.binary(max_size=64))
    depth = draw(st.integers(1, 3000))
    return "[" * depth + "]" * draw(st.sampled_from([depth, 0]))


class Outcome:
    """Sends one request and checks the properties against the database."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def __call__(self, method: str, url: str, **kwargs):
        cache.clear()  # no throttle counts across examples
        before = database_snapshot()
        response = self.client.generic(method, url, **kwargs)
        status = response.status_code
        assert status < 500, (status, url, kwargs)
        if url.startswith("/api/"):
            assert response["Content-Type"] == JSON, (status, response.content)
        if 400 <= status < 500:
            assert database_snapshot() == before, (status, url, kwargs)
        return response


@pytest.fixture
def send(viewer: Client) -> Outcome:
    return Outcome(viewer)


# --- ratings ------------------------------------------------------------------------


@given(data=st.data())
def test_rating_form_never_fails(data, send: Outcome, title: Title) -> None:
    fields = data.draw(
        st.fixed_dictionaries(
            {},
            optional={
                "value": plausible(4, 4.5, 0.5, 5, 0, 6, "nan", "inf"),
                "clear": plausible("on", "true", ""),
                "next": plausible("/", "//evil.example", "/ratings/"),
            },
        )
    )
    headers = data.draw(st.sampled_from([{}, {"HTTP_HX_REQUEST": "true"}]))

    send(
        "POST",
        reverse("activity:rate", args=[title.pk]),
        data=form_body(fields),
        content_type=FORM,
        **headers,
    )


@given(data=st.data())
def test_rating_api_never_fails(
    data, send: Outcome, profile: Profile, title: Title
) -> None:
    body = json_body(
        data.draw,
        {
            "title": st.sampled_from([title.pk, str(title.pk), 0, -1]),
            "value": st.sampled_from([4.5, "4.5", 0.5, 5, 0.25, 6]),
        },
    )

    send(
        "POST",
        reverse("api:profile-ratings", args=[profile.pk]),
        data=body,
        content_type=JSON,
    )


# --- feedback -----------------------------------------------------------------------


@given(data=st.data())
def test_feedback_forms_never_fail(data, send: Outcome, title: Title) -> None:
    name, field, values = data.draw(
        st.sampled_from(
            [
                ("activity:thumbs", "thumb", ("thumbs_up", "thumbs_down", "none")),
                ("activity:not_interested", "action", ("add", "remove")),
                ("activity:title_my_list", "action", ("add", "remove")),
            ]
        )
    )
    fields = data.draw(st.fixed_dictionaries({}, optional={field: plausible(*values)}))

    send(
        "POST",
        reverse(name, args=[title.pk]),
        data=form_body(fields),
        content_type=FORM,
    )


@given(data=st.data())
def test_feedback_api_never_fails(
    data, send: Outcome, profile: Profile, title: Title
) -> None:
    body = json_body(
        data.draw,
        {
            "title": st.sampled_from([title.pk, 0]),
            "kind": st.sampled_from([*Feedback.Kind.values, "THUMBS_UP", ""]),
        },
    )

    send(
        "POST",
        reverse("api:profile-feedback", args=[profile.pk]),
        data=body,
        content_type=JSON,
    )


# --- search -------------------------------------------------------------------------


@given(data=st.data())
def test_search_never_fails(data, send: Outcome, title: Title) -> None:
    fields = data.draw(
        st.fixed_dictionaries(
            {},
            optional={
                "q": plausible(title.title, "heat", "", " " * 300, "%", "_", "\\"),
                "page": plausible(1, 2, 0, -1, "last"),
            },
        )
    )
    headers = data.draw(
        st.sampled_from(
            [
                {},
                {"HTTP_HX_REQUEST": "true"},
                {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "search-suggestions"},
            ]
        )
    )

    send("GET", f"{reverse('catalog:search')}?{form_body(fields)}", **headers)


# --- viewing events -----------------------------------------------------------------


@given(data=st.data())
def test_playing_and_heartbeats_never_fail(
    data, send: Outcome, profile: Profile, title: Title
) -> None:
    viewing = ViewingEventFactory(profile=profile, title=title, progress=0.5)
    progress = plausible(0, 0.5, 1, 1.5, -0.1, "nan", "inf", "1e309")
    seconds = plausible(0, 60, 86400, 86401, -1)
    url, fields = data.draw(
        st.one_of(
            st.tuples(
                st.just(reverse("activity:play", args=[title.pk])),
                st.fixed_dictionaries(
                    {}, optional={"start": plausible("resume", "beginning")}
                ),
            ),
            st.tuples(
                st.sampled_from(
                    [
                        reverse("activity:heartbeat", args=[viewing.pk]),
                        reverse("activity:heartbeat", args=[viewing.pk]) + "?beacon",
                        reverse("activity:unkept_heartbeat", args=[title.pk]),
                    ]
                ),
                st.fixed_dictionaries(
                    {}, optional={"progress": progress, "seconds": seconds}
                ),
            ),
        )
    )

    send("POST", url, data=form_body(fields), content_type=FORM)


@given(data=st.data())
def test_the_player_page_never_fails(data, send: Outcome, title: Title) -> None:
    fields = data.draw(
        st.fixed_dictionaries(
            {},
            optional={
                "viewing": plausible(1, 0, -1),
                "unkept": plausible("resume", "beginning"),
            },
        )
    )

    send("GET", f"{reverse('activity:play', args=[title.pk])}?{form_body(fields)}")


# --- erasure ------------------------------------------------------------------------


def present(profile: Profile, title: Title) -> Rating:
    """The profile's rating of the title (an earlier example may have erased it)."""
    rating, _ = Rating.objects.get_or_create(
        profile=profile, title=title, defaults={"value": 4.0}
    )
    return rating


@given(data=st.data())
def test_erasure_forms_never_fail(
    data, send: Outcome, profile: Profile, title: Title
) -> None:
    rating = present(profile, title)
    search, _ = SearchEvent.objects.get_or_create(profile=profile, query="heat")
    url, fields = data.draw(
        st.one_of(
            st.tuples(
                st.just(reverse("privacy:erase_item")),
                st.fixed_dictionaries(
                    {},
                    optional={
                        "profile": plausible(profile.pk, 0, ""),
                        "kind": plausible(*registry.ITEMS, "Rating"),
                        "item": plausible(rating.pk, search.pk, 0),
                    },
                ),
            ),
            st.tuples(
                st.just(reverse("privacy:erase_category")),
                st.fixed_dictionaries(
                    {},
                    optional={
                        "profile": plausible(profile.pk, 0),
                        "category": plausible(*registry.CATEGORIES, "account"),
                    },
                ),
            ),
        )
    )

    send("POST", url, data=form_body(fields), content_type=FORM)


@given(data=st.data())
def test_erasure_api_never_fails(
    data, send: Outcome, profile: Profile, title: Title
) -> None:
    rating = present(profile, title)
    body = json_body(
        data.draw,
        {
            "scope": st.sampled_from(["item", "category", "profile", "account"]),
            "profile": st.sampled_from([profile.pk, 0]),
            "kind": st.sampled_from([*registry.ITEMS, "Rating"]),
            "item": st.sampled_from([rating.pk, 0]),
            "category": st.sampled_from([*registry.CATEGORIES, "account"]),
            "password": st.sampled_from(["", "wrong"]),
        },
    )

    send("POST", reverse("api:privacy-api:erase"), data=body, content_type=JSON)
