"""Every route that takes an id, HTML and API, refuses what is not the
caller's: one table-driven test generated from the URL resolver.

For every route with an ``<int:…>`` path id and every method it accepts:

- another account (Eve, signed in with her own token or session) naming
  Ada's object gets **404**, never 403, and nothing changes; with Eve's own
  profile in the path and Ada's object after it, still 404;
- Ada's kids profile (its browser session without the account password, and
  under /api/ also a token tied to it) acting on Ada's grown-up profile's
  data is refused: 403 under /api/ (404 when the path names the kids
  profile itself and the object is the grown-up's), and in HTML what the
  page does today (:data:`KIDS_HTML`): the account password page, or 404;
- a kids profile naming a title it may not see (rated R) gets 404.

Each id in a path must be known here: either owned (:data:`OWNED`, or
:data:`OWNED_IN_ROUTE` for a bare ``pk``), or listed in :data:`NOT_OWNED`
with why. A new route with an id in neither FAILS, asking for it to be
added, so a route cannot ship without its ownership checked.
"""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.converters import IntConverter
from rest_framework.test import APIClient

from accounts.access import ACTIVE_PROFILE_SESSION_KEY
from activity.models import Feedback
from tests.api.conftest import Family, Holdings, World, world_build

# --- what each path id names ------------------------------------------------------

#: Owned ids: how to find the object of that kind held by a profile's
#: ``Holdings`` (of the family ``Family``).
Owner = Callable[[Family, Holdings], object]
OWNED: dict[str, Owner] = {
    "profile_id": lambda family, holdings: holdings.profile,
    "rating_id": lambda family, holdings: holdings["rating"],
    "feedback_id": lambda family, holdings: holdings["thumbs_up"],
    "item_id": lambda family, holdings: holdings["list"],
    "viewing_id": lambda family, holdings: holdings["play"],
    # The account's, not a profile's: a kids profile reaches them only with
    # the account password (or an account-scope token).
    "export_id": lambda family, holdings: family.export,
    "token_id": lambda family, holdings: family.tokens["spare"][0],
}

#: Ids that name nobody's data, and why; a kids profile must still not see a
#: title it may not (``KIDS_GATED``).
NOT_OWNED = {
    "title_id": "a catalog title: public (kids see only their titles)",
    "collection_id": "a curated collection of the catalog: public",
    "version_id": "a model version: staff only (403 to others), nobody's data",
}
#: A bare ``pk`` means different things; each route says which.
PK_ROUTES = {
    "catalog:title": "title",
    "catalog:poster": "poster",  # posters are public, kids included
    "activity:title_actions": "title",
    "activity:rate": "title",
    "activity:thumbs": "title",
    "activity:not_interested": "title",
    "activity:show_fewer": "title",
    "activity:title_my_list": "title",
    "activity:play": "title",
    "activity:unkept_heartbeat": "title",
    "recommendations:why": "title",
    "recommendations:more_like_this": "title",
    "recommendations:seed_exclude": "title",
    "recommendations:seed_restore": "title",
    "privacy:hidden_title_show": "owned",
    "privacy:show_fewer_undo": "owned",
    "privacy:ledger_delete": "owned",
}
#: Owned ``pk``s (and the other path parts the route needs), per route.
OWNED_IN_ROUTE: dict[str, tuple[Owner, dict]] = {
    "privacy:hidden_title_show": (
        lambda family, holdings: holdings["not_interested"],
        {},
    ),
    "privacy:ledger_delete": (
        lambda family, holdings: holdings["rating"],
        {"kind": "rating"},
    ),
    "privacy:show_fewer_undo": (
        lambda family, holdings: Feedback.objects.get_or_create(
            profile=holdings.profile,
            title=holdings["play"].title,
            kind=Feedback.Kind.SHOW_FEWER,
        )[0],
        {},
    ),
}
#: Title ids a kids profile may not name (the title is not for it): 404.
KIDS_GATED = {"title_id"}

#: What an HTML page does today when Ada's kids profile (no password typed)
#: names the grown-up profile's object: the account password page, or 404
#: (the page looks the object up among the kids profile's own).
PASSWORD, NOT_FOUND = "password page", 404
KIDS_HTML = {
    "accounts:token_revoke": PASSWORD,
    "accounts:profile_choose": PASSWORD,
    "accounts:profile_update": PASSWORD,
    "activity:heartbeat": NOT_FOUND,
    "activity:my_list_remove": NOT_FOUND,
    "activity:continue_watching_remove": NOT_FOUND,
    "privacy:profile_delete": PASSWORD,
    "privacy:hidden_title_show": PASSWORD,
    "privacy:ledger_delete": PASSWORD,
    "privacy:show_fewer_undo": PASSWORD,
    "privacy:export_status": PASSWORD,
    "privacy:export_download": PASSWORD,
}

# --- the routes -------------------------------------------------------------------

_PART = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass(frozen=True)
class Route:
    template: str  # "/api/v1/profiles/<int:profile_id>/ratings/"
    name: str  # "api:profile-ratings"
    ids: tuple[str, ...]  # its int path parts
    methods: tuple[str, ...]  # of GET, POST, PUT, PATCH, DELETE

    @property
    def api(self) -> bool:
        return self.template.startswith("/api/")

    def url(self, values: dict) -> str:
        return _PART.sub(lambda m: str(values[m["name"]]), self.template)

    def owned(self) -> dict[str, Owner]:
        """Its owned path ids and how to find each (KeyError: unknown)."""
        owned = {}
        for name in self.ids:
            if name == "pk":
                kind = PK_ROUTES[self.name]
                if kind == "owned":
                    owned[name] = OWNED_IN_ROUTE[self.name][0]
            elif name in OWNED:
                owned[name] = OWNED[name]
            elif name not in NOT_OWNED:
                raise KeyError(name)
        return owned

    def unknown(self) -> list[str]:
        return [
            name
            for name in self.ids
            if (name == "pk" and self.name not in PK_ROUTES)
            or (name != "pk" and name not in OWNED and name not in NOT_OWNED)
        ]

    def title_ids(self) -> list[str]:
        return [
            name
            for name in self.ids
            if name in KIDS_GATED
            or (name == "pk" and PK_ROUTES.get(self.name) == "title")
        ]


def _methods(callback) -> tuple[str, ...]:
    """What the view answers: a DRF view's handlers, else the methods its
    ``require_http_methods`` decorators allow (GET and POST without one)."""
    view_class = getattr(callback, "cls", None)
    if view_class is not None:
        return tuple(
            m.upper()
            for m in ("get", "post", "put", "patch", "delete")
            if hasattr(view_class, m)
        )
    allowed = {"GET", "POST"}
    function = callback
    while function is not None:
        code, cells = function.__code__, function.__closure__ or ()
        for name, cell in zip(code.co_freevars, cells, strict=True):
            if name == "request_method_list":
                allowed &= {m.upper() for m in cell.cell_contents}
        function = getattr(function, "__wrapped__", None)
    return tuple(sorted(allowed))


def _walk(patterns, prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}{pattern.namespace}:"
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            template = "/" + prefix + str(pattern.pattern)
            converters = dict(pattern.pattern.converters)
            if template.startswith("/admin/"):
                continue  # Django's admin: staff only, its own checks
            for part in _PART.finditer(prefix):
                converters.setdefault(part["name"], None)
            ids = tuple(
                name
                for name, converter in converters.items()
                if isinstance(converter, IntConverter)
            )
            if ids:
                yield Route(
                    template=template,
                    name=f"{namespace}{pattern.name}",
                    ids=ids,
                    methods=_methods(pattern.callback),
                )


def routes() -> list[Route]:
    return sorted(_walk(get_resolver().url_patterns), key=lambda r: r.template)


# --- the cases --------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    route: Route
    method: str
    who: str  # "eve", "eve on her profile", "kids session", "kids token", ...

    def __str__(self) -> str:
        return f"{self.method} {self.route.template} as {self.who}"


OTHER_ACCOUNT = "eve"
OTHER_ACCOUNT_OWN_PROFILE = "eve, on her own profile's path"
KIDS_SESSION = "kids session"
KIDS_TOKEN = "kids token"
KIDS_OWN_PROFILE = "kids token, on its own profile's path"
KIDS_TITLE_SESSION = "kids session, a title not for kids"
KIDS_TITLE_TOKEN = "kids token, a title not for kids"


def cases() -> Iterator[Case]:
    for route in routes():
        if route.unknown():
            yield Case(route, "-", "unknown id")
            continue
        owned = route.owned()
        for method in route.methods:
            whos = []
            if owned:
                whos += [OTHER_ACCOUNT, KIDS_SESSION]
                if route.api:
                    whos.append(KIDS_TOKEN)
                if "profile_id" in owned and len(owned) > 1:
                    whos += [OTHER_ACCOUNT_OWN_PROFILE]
                    if route.api:
                        whos.append(KIDS_OWN_PROFILE)
            if route.title_ids() and PK_ROUTES.get(route.name) != "poster":
                whos.append(KIDS_TITLE_SESSION)
                if route.api:
                    whos.append(KIDS_TITLE_TOKEN)
            for who in whos:
                yield Case(route, method, who)


# --- one world for the module -----------------------------------------------------


@pytest.fixture(scope="module")
def shared_world(django_db_setup, django_db_blocker, tmp_path_factory) -> World:
    """One world (two families) for every case of the module, rolled back
    at its end; each test runs in a savepoint inside it (pytest-django's
    ``db``), so what a case changes is undone before the next."""
    exports = tmp_path_factory.mktemp("exports")
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with (
        django_db_blocker.unblock(),
        override_settings(PRIVACY_EXPORT_DIR=exports, PASSWORD_HASHERS=fast),
        transaction.atomic(),
    ):
        yield world_build()
        transaction.set_rollback(True)


def _session(profile, *, api: bool):
    client = APIClient() if api else Client()
    client.force_login(profile.user)
    session = client.session
    session[ACTIVE_PROFILE_SESSION_KEY] = profile.pk
    session.save()
    return client


def _token(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def _snapshot(objects: list) -> list:
    """The objects' rows as they are in the database now (None: gone)."""
    rows = []
    for obj in objects:
        row = type(obj)._default_manager.filter(pk=obj.pk).values().first()
        rows.append(row)
    return rows


def _send(client, method: str, url: str, api: bool):
    if api:
        return getattr(client, method.lower())(url, {}, format="json")
    return getattr(client, method.lower())(url)


def _is_password_page(response) -> bool:
    return response.status_code == 302 and urlsplit(response["Location"]).path == (
        "/accounts/confirm-password/"
    )


def _plan(case: Case, world: World):
    """The client, the path values, the objects aimed at, and what must come back."""
    route, ada = case.route, world.ada
    owned = route.owned()
    extra = OWNED_IN_ROUTE.get(route.name, (None, {}))[1]
    # Public ids name things that exist and a kids profile may see.
    public = {"collection_id": world.catalog.collection.pk}
    values = {name: world.catalog.for_kids[0].pk for name in route.title_ids()}
    values |= {name: public.get(name, 1) for name in route.ids if name not in values}
    values |= extra
    # Ada's grown-up profile's objects, aimed at by everyone below.
    targets = {name: find(ada, ada.adult) for name, find in owned.items()}
    values |= {name: obj.pk for name, obj in targets.items()}
    api = route.api
    if case.who in (OTHER_ACCOUNT, OTHER_ACCOUNT_OWN_PROFILE):
        eve = world.eve
        client = (
            _token(eve.secret("account"))
            if api
            else _session(eve.adult.profile, api=False)
        )
        if case.who == OTHER_ACCOUNT_OWN_PROFILE:
            values["profile_id"] = eve.adult.profile.pk
            del targets["profile_id"]
        return client, values, list(targets.values()), {404}
    kid = ada.kid.profile
    if case.who in (KIDS_SESSION, KIDS_TITLE_SESSION):
        client = _session(kid, api=api)
    else:
        client = _token(ada.secret("kid"))
    if case.who in (KIDS_TITLE_SESSION, KIDS_TITLE_TOKEN):
        own = {name: find(ada, ada.kid) for name, find in owned.items()}
        values |= {name: obj.pk for name, obj in own.items()}
        values |= {name: world.catalog.grown_up[0].pk for name in route.title_ids()}
        return client, values, [], {404}
    if case.who == KIDS_OWN_PROFILE:
        values["profile_id"] = kid.pk
        del targets["profile_id"]
        return client, values, list(targets.values()), {404}
    if api:
        return client, values, list(targets.values()), {403}
    expected = KIDS_HTML.get(route.name)
    assert expected is not None, (
        f"{route.name} ({route.template}): say in KIDS_HTML what the page "
        "does when a kids profile names the grown-up profile's object"
    )
    return client, values, list(targets.values()), {expected}


@pytest.mark.parametrize("case", list(cases()), ids=str)
def test_only_the_owner_reaches_an_object(case: Case, shared_world: World, db) -> None:
    route = case.route
    assert not route.unknown(), (
        f"{route.template} ({route.name}) takes {route.unknown()}: add each id "
        "to OWNED (with how to find one of a profile's or an account's), to "
        "PK_ROUTES/OWNED_IN_ROUTE for a bare pk, or to NOT_OWNED saying why "
        "nobody owns it"
    )
    client, values, targets, expected = _plan(case, shared_world)
    url = route.url(values)
    before = _snapshot(targets)

    response = _send(client, case.method, url, route.api)

    if expected == {PASSWORD}:
        assert _is_password_page(response), (
            f"{case}: expected the account password page, got "
            f"{response.status_code} {response.get('Location', '')}"
        )
    else:
        assert response.status_code in expected, (
            f"{case} ({url}): expected {sorted(expected)}, got "
            f"{response.status_code}: {response.content[:300]!r}"
        )
    if route.api:
        assert response["Content-Type"].startswith("application/json")
        codes = {error["code"] for error in response.json()["errors"]}
        if response.status_code == 404:
            assert codes == {"not_found"}
            assert "matches" not in response.content.decode()
        else:
            assert codes & {"profile_not_allowed", "account_access_required"}, codes
    assert _snapshot(targets) == before, f"{case} changed {targets}"


def test_every_route_with_an_id_is_in_the_tables() -> None:
    """The same rule in one place: every id of every route is accounted for,
    and the tables name no route that is gone."""
    found = routes()
    unknown = {r.template: r.unknown() for r in found if r.unknown()}
    names = {r.name for r in found}

    assert not unknown, f"add these path ids to the tables: {unknown}"
    assert set(PK_ROUTES) <= names, set(PK_ROUTES) - names
    assert set(KIDS_HTML) <= names, set(KIDS_HTML) - names
