"""Fixtures for the API's tests: programs signed in with tokens, a family of
profiles (grown-up and kids) and a second account to try to reach; and for
the cross-cutting tests (schema, ownership) a whole :class:`World`: two such
accounts, each with data of every kind, an export and tokens of every scope."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from hypothesis.configuration import set_hypothesis_home_dir
from rest_framework.test import APIClient

from accounts.models import AccessToken, Profile, User
from accounts.services import token_create
from tests.factories import (
    ACCOUNT_PASSWORD,
    AccountFactory,
    GenreFactory,
    ProfileFactory,
    TitleFactory,
)

# Schemathesis generates with Hypothesis, which keeps caches in a directory
# of its own: this run's var dir, not the work tree.
set_hypothesis_home_dir(Path(django_settings.VAR_DIR) / "hypothesis")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    """PBKDF2's real cost is for attackers, not for a test run."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def account(db) -> User:
    return AccountFactory(email="ada@example.com")


@pytest.fixture
def adult(account: User) -> Profile:
    return ProfileFactory(user=account, name="Ada")


@pytest.fixture
def kid(account: User) -> Profile:
    return ProfileFactory(user=account, name="Kit", is_kids=True)


@pytest.fixture
def stranger(db) -> Profile:
    """Another account's profile: every path to it must answer 404."""
    return ProfileFactory(user=AccountFactory(email="eve@example.com"), name="Eve")


TokenClient = Callable[..., APIClient]


@pytest.fixture
def token_client(account: User) -> TokenClient:
    """``token_client(scope="read-write", profile=None, user=account)``: an
    APIClient sending a fresh token of that scope (tied to ``profile`` if
    given) as ``Authorization: Bearer``; the token is ``client.token``."""

    def make(
        scope: str = AccessToken.Scope.READ_WRITE,
        profile: Profile | None = None,
        user: User | None = None,
    ) -> APIClient:
        token, secret = token_create(
            user=user or account, name=f"test {scope}", scope=scope, profile=profile
        )
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        client.token = token
        client.secret = secret
        return client

    return make


@pytest.fixture
def api(token_client: TokenClient) -> APIClient:
    """The account's program with a full-access token."""
    return token_client(AccessToken.Scope.ACCOUNT)


@pytest.fixture
def kids_session(account: User, kid: Profile) -> APIClient:
    """The browser's session with the kids profile chosen (no password typed)."""
    from accounts.access import ACTIVE_PROFILE_SESSION_KEY

    client = APIClient(enforce_csrf_checks=False)
    client.force_login(account)
    session = client.session
    session[ACTIVE_PROFILE_SESSION_KEY] = kid.pk
    session.save()
    return client


# --- a whole world: two accounts, each a family, with data of every kind -----------


@dataclass
class Catalog:
    """Titles for everyone: ``for_kids`` (rated G, a kids profile sees them)
    and ``grown_up`` (rated R: a kids profile gets 404 for them)."""

    for_kids: list
    grown_up: list
    genres: list
    collection: object

    @property
    def titles(self) -> list:
        return [*self.for_kids, *self.grown_up]


@dataclass
class Holdings:
    """One profile's personal data, one row of each kind, by the names the
    privacy ledger uses (``rating``, ``play``, ``search``, ``thumbs_up``...)
    plus ``list`` (a My List entry)."""

    profile: Profile
    rows: dict = field(default_factory=dict)

    def __getitem__(self, kind: str):
        return self.rows[kind]


@dataclass
class Family:
    """An account with a grown-up and a kids profile, each holding data, a
    ready export and tokens (``tokens[name] = (token, secret)``)."""

    user: User
    adult: Holdings
    kid: Holdings
    export: object
    tokens: dict = field(default_factory=dict)

    def secret(self, name: str) -> str:
        return self.tokens[name][1]


def catalog_build() -> Catalog:
    from catalog.models import Collection, CollectionItem, Title

    animation = GenreFactory(name="Animation")
    drama = GenreFactory(name="Drama")
    horror = GenreFactory(name="Horror")
    for_kids = [
        TitleFactory(
            title=f"Paper Kites {n}",
            year=1990 + n,
            runtime_minutes=80 + n,
            maturity_rating=Title.Maturity.G,
            genres=[animation],
        )
        for n in range(6)
    ]
    grown_up = [
        TitleFactory(
            title=f"Night Shift {n}",
            year=2000 + n,
            runtime_minutes=100 + n,
            maturity_rating=Title.Maturity.R,
            genres=[horror, drama],
        )
        for n in range(6)
    ]
    collection = Collection.objects.create(name="Weekend picks", slug="weekend")
    for position, title in enumerate([*for_kids[:2], *grown_up[:2]]):
        CollectionItem.objects.create(
            collection=collection, title=title, position=position
        )
    return Catalog(for_kids, grown_up, [animation, drama, horror], collection)


def holdings_build(profile: Profile, titles: list) -> Holdings:
    """One row of each kind of personal data for ``profile``, on ``titles``
    (at least five)."""
    from activity.models import Feedback, ListItem, Rating, SearchEvent, ViewingEvent

    a, b, c, d, e = titles[:5]
    rows = {
        "rating": Rating.objects.create(profile=profile, title=a, value=4.5),
        "play": ViewingEvent.objects.create(
            profile=profile, title=b, progress=0.4, seconds_watched=1800
        ),
        "search": SearchEvent.objects.create(profile=profile, query="kites"),
        "thumbs_up": Feedback.objects.create(
            profile=profile, title=c, kind=Feedback.Kind.THUMBS_UP
        ),
        "thumbs_down": Feedback.objects.create(
            profile=profile, title=d, kind=Feedback.Kind.THUMBS_DOWN
        ),
        "not_interested": Feedback.objects.create(
            profile=profile, title=e, kind=Feedback.Kind.NOT_INTERESTED
        ),
        "pick": Feedback.objects.create(
            profile=profile, title=a, kind=Feedback.Kind.PICK
        ),
        "list": ListItem.objects.create(profile=profile, title=c),
    }
    Rating.objects.create(profile=profile, title=b, value=2.0)
    return Holdings(profile, rows)


def export_ready(user: User):
    """A finished "Download my data" export of ``user``'s account (its zip
    under ``settings.PRIVACY_EXPORT_DIR``)."""
    from privacy import services

    export = services.data_export_request(user=user)
    # Built here, unless the (eager) task already did on commit.
    services.data_export_build(export_id=export.pk)
    export.refresh_from_db()
    assert export.status == export.Status.READY, export.error
    return export


def family_build(email: str, names: tuple[str, str], catalog: Catalog) -> Family:
    """An account (password :data:`ACCOUNT_PASSWORD`) with a grown-up and a
    kids profile holding data, a ready export, and tokens: ``account``,
    ``read-write``, ``read`` (every profile), ``kid`` (read-write, tied to
    the kids profile), ``adult`` (read-write, tied to the grown-up one) and
    ``spare`` (one to revoke)."""
    user = AccountFactory(email=email)
    adult = ProfileFactory(user=user, name=names[0])
    kid = ProfileFactory(user=user, name=names[1], is_kids=True)
    family = Family(
        user=user,
        adult=holdings_build(adult, [*catalog.grown_up[:3], *catalog.for_kids[:2]]),
        kid=holdings_build(kid, catalog.for_kids),
        export=export_ready(user),
    )
    scope = AccessToken.Scope
    for name, token_scope, profile in (
        ("account", scope.ACCOUNT, None),
        ("read-write", scope.READ_WRITE, None),
        ("read", scope.READ, None),
        ("kid", scope.READ_WRITE, kid),
        ("adult", scope.READ_WRITE, adult),
        ("spare", scope.READ_WRITE, None),
    ):
        family.tokens[name] = token_create(
            user=user,
            name=name,
            scope=token_scope,
            profile=profile,
            expires_at=timezone.now() + timedelta(days=1),
        )
    return family


@dataclass
class World:
    catalog: Catalog
    ada: Family  # the account whose data is reached for
    eve: Family  # another account: everything of Ada's must be 404 to her

    @property
    def families(self) -> tuple[Family, Family]:
        return self.ada, self.eve


def world_build() -> World:
    catalog = catalog_build()
    return World(
        catalog=catalog,
        ada=family_build("ada@example.com", ("Ada", "Kit"), catalog),
        eve=family_build("eve@example.com", ("Eve", "Tom"), catalog),
    )


@pytest.fixture
def export_dir(settings, tmp_path):
    settings.PRIVACY_EXPORT_DIR = tmp_path / "exports"
    return settings.PRIVACY_EXPORT_DIR


@pytest.fixture
def world(db, export_dir) -> World:
    """Two accounts with a grown-up and a kids profile each, and data of
    every kind (see :func:`world_build`)."""
    return world_build()


__all__ = ["ACCOUNT_PASSWORD"]
