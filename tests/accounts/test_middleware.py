"""request.profile, and the decorators that gate pages on it."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.http import Http404, HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse

from accounts import access
from accounts.access import (
    ACTIVE_PROFILE_SESSION_KEY,
    PASSWORD_CONFIRMED_SESSION_KEY,
    account_password_required,
    profile_required,
)
from accounts.models import Profile, User
from tests.factories import ProfileFactory

pytestmark = pytest.mark.django_db


def put_in_session(client: Client, **values) -> None:
    session = client.session
    session.update(values)
    session.save()


def profile_on(client: Client) -> Profile | None:
    """``request.profile`` as the middleware set it for a page load."""
    response = client.get(reverse("accounts:login"))
    return response.wsgi_request.profile


def test_anonymous_request_has_no_profile(client):
    assert profile_on(client) is None


def test_logged_in_without_a_choice_has_no_profile(signed_in, profile):
    assert profile_on(signed_in) is None


def test_choosing_a_profile_puts_it_on_request_profile(signed_in, profile):
    signed_in.post(reverse("accounts:profile_choose", args=[profile.pk]))

    assert profile_on(signed_in) == profile
    assert signed_in.session[ACTIVE_PROFILE_SESSION_KEY] == profile.pk


def test_a_deleted_profile_in_the_session_is_cleared(signed_in, profile):
    put_in_session(signed_in, **{ACTIVE_PROFILE_SESSION_KEY: profile.pk})
    Profile.objects.filter(pk=profile.pk).delete()

    assert profile_on(signed_in) is None
    assert ACTIVE_PROFILE_SESSION_KEY not in signed_in.session


def test_another_users_profile_in_the_session_is_cleared(signed_in, profile):
    foreign = ProfileFactory(name="Not yours")
    put_in_session(signed_in, **{ACTIVE_PROFILE_SESSION_KEY: foreign.pk})

    assert profile_on(signed_in) is None
    assert ACTIVE_PROFILE_SESSION_KEY not in signed_in.session


@pytest.mark.parametrize("junk", ["id", [1], 1.5])
def test_junk_in_the_session_is_cleared(signed_in, profile, junk):
    put_in_session(signed_in, **{ACTIVE_PROFILE_SESSION_KEY: junk})

    assert profile_on(signed_in) is None
    assert ACTIVE_PROFILE_SESSION_KEY not in signed_in.session


def test_an_anonymous_session_with_a_profile_id_is_cleared(client, profile):
    put_in_session(client, **{ACTIVE_PROFILE_SESSION_KEY: profile.pk})

    assert profile_on(client) is None
    assert ACTIVE_PROFILE_SESSION_KEY not in client.session


def test_anonymous_page_loads_make_no_profile_query(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        client.get(reverse("accounts:login"))


def test_access_profile_answers_404_for_anyone_elses_profile(profile):
    other = ProfileFactory()
    assert access.access_profile(profile.user, profile.pk) == profile
    with pytest.raises(Http404):
        access.access_profile(profile.user, other.pk)


# --- the decorators, on a stand-in view ----------------------------------------


@pytest.fixture
def rf_request(rf: RequestFactory):
    def make(user: User | None, profile: Profile | None, *, htmx: bool = False):
        request = rf.get("/somewhere/?page=2")
        request.user = user or AnonymousUser()
        request.session = SessionStore()
        request.profile = profile
        request.htmx = htmx
        return request

    return make


def page(request: HttpRequest) -> HttpResponse:
    return HttpResponse("the page")


def test_profile_required_sends_the_anonymous_to_log_in(rf_request):
    response = profile_required(page)(rf_request(None, None))

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/somewhere/%3Fpage%3D2"


def test_profile_required_sends_a_viewer_without_a_profile_to_the_picker(
    rf_request, account
):
    response = profile_required(page)(rf_request(account, None))

    assert response.status_code == 302
    assert response["Location"] == "/profiles/?next=%2Fsomewhere%2F%3Fpage%3D2"


def test_profile_required_tells_htmx_to_load_the_picker_as_a_page(rf_request, account):
    response = profile_required(page)(rf_request(account, None, htmx=True))

    assert response["HX-Redirect"] == "/profiles/?next=%2Fsomewhere%2F%3Fpage%3D2"


def test_profile_required_lets_a_chosen_profile_through(rf_request, profile):
    response = profile_required(page)(rf_request(profile.user, profile))

    assert response.content == b"the page"


def test_account_password_required_lets_a_grown_up_profile_through(rf_request, profile):
    response = account_password_required(page)(rf_request(profile.user, profile))

    assert response.content == b"the page"


def test_account_password_required_asks_a_kids_profile(rf_request, account):
    kids = ProfileFactory(user=account, is_kids=True)

    response = account_password_required(page)(rf_request(account, kids))

    assert response.status_code == 302
    assert response["Location"] == (
        "/accounts/confirm-password/?next=%2Fsomewhere%2F%3Fpage%3D2"
    )


def test_a_confirmed_password_lasts_ten_minutes(rf_request, account, monkeypatch):
    kids = ProfileFactory(user=account, is_kids=True)
    request = rf_request(account, kids)
    monkeypatch.setattr(access.time, "time", lambda: 1_000_000.0)
    access.account_password_confirm(request)
    view = account_password_required(page)

    monkeypatch.setattr(access.time, "time", lambda: 1_000_000.0 + 599)
    assert view(request).content == b"the page"
    monkeypatch.setattr(access.time, "time", lambda: 1_000_000.0 + 600)
    assert view(request).status_code == 302


def test_switching_profile_forgets_a_confirmed_password(rf_request, account):
    kids = ProfileFactory(user=account, is_kids=True)
    request = rf_request(account, kids)
    access.account_password_confirm(request)

    access.profile_activate(request, kids)

    assert PASSWORD_CONFIRMED_SESSION_KEY not in request.session
    assert access.account_password_needed(request)
