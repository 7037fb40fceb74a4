"""Sign-up, log-in, lockout, password pages and profile pages, through the client."""

import re
from html.parser import HTMLParser

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.http import HttpRequest
from django.test import Client
from django.urls import reverse

from accounts.access import ACTIVE_PROFILE_SESSION_KEY
from accounts.models import Profile, User
from activity.models import Rating
from tests.factories import (
    ACCOUNT_PASSWORD,
    ProfileFactory,
    RatingFactory,
)

pytestmark = pytest.mark.django_db

STRONG_PASSWORD = "Popcorn-Matinee-1984"


def logged_in_user_id(client: Client) -> int | None:
    value = client.session.get(SESSION_KEY)
    return int(value) if value is not None else None


def choose(client: Client, profile: Profile):
    return client.post(reverse("accounts:profile_choose", args=[profile.pk]))


def errors(response, field: str = "__all__") -> list[str]:
    return response.context["form"].errors.get(field, [])


# --- sign up -------------------------------------------------------------------


def test_sign_up_creates_the_account_and_first_profile_and_logs_in(client):
    response = client.post(
        reverse("accounts:signup"),
        {
            "name": "Grace",
            "email": "audit-55f3d1@example.com",
            "password1": STRONG_PASSWORD,
            "password2": STRONG_PASSWORD,
        },
    )

    user = User.objects.get()
    assert response.status_code == 302
    # The first profile is the one watching, and it starts with onboarding.
    assert response["Location"] == reverse("catalog:onboarding")
    assert user.email == "audit-55f3d1@example.com"
    assert user.check_password(STRONG_PASSWORD)
    # The profile is called what the person typed, never a piece of the address.
    assert list(user.profiles.values_list("name", flat=True)) == ["Grace"]
    assert logged_in_user_id(client) == user.pk
    assert client.session[ACTIVE_PROFILE_SESSION_KEY] == user.profiles.get().pk


def test_sign_up_page_renders_every_field_with_a_label(client):
    response = client.get(reverse("accounts:signup"))

    html = response.content.decode()
    assert response.status_code == 200
    for field in ("name", "email", "password1", "password2"):
        assert f'<label for="id_{field}"' in html
    assert "Your name" in html


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"email": "g@example.com", "password1": "abc", "password2": "abc"}, "password1",
         "This password is too short. It must contain at least 8 characters."),
        ({"email": "g@example.com", "password1": "12345678901", "password2": "12345678901"},
         "password1", "This password is entirely numeric."),
        ({"email": "g@example.com", "password1": STRONG_PASSWORD, "password2": "other-Pass-99"},
         "password2", "The two passwords are different."),
        ({"email": "not an address", "password1": STRONG_PASSWORD, "password2": STRONG_PASSWORD},
         "email", "Enter a valid email address."),
        ({"email": "x" * 1000 + "@example.com", "password1": STRONG_PASSWORD,
          "password2": STRONG_PASSWORD}, "email",
         "Ensure this value has at most 254 characters (it has 1012)."),
        ({}, "email", "This field is required."),
        ({"name": "   ", "email": "g@example.com", "password1": STRONG_PASSWORD,
          "password2": STRONG_PASSWORD}, "name", "This field is required."),
        ({"name": "n" * 41, "email": "g@example.com", "password1": STRONG_PASSWORD,
          "password2": STRONG_PASSWORD}, "name",
         "Ensure this value has at most 40 characters (it has 41)."),
    ],
)  # fmt: skip
def test_sign_up_with_bad_input_is_a_form_error(client, data, field, message):
    response = client.post(reverse("accounts:signup"), data)

    assert response.status_code == 200
    assert message in errors(response, field)
    assert User.objects.count() == 0


def test_sign_up_page_sends_a_logged_in_visitor_to_the_picker(signed_in):
    response = signed_in.get(reverse("accounts:signup"))

    assert response["Location"] == reverse("accounts:profile_picker")


# --- log in, log out ---------------------------------------------------------


@pytest.mark.parametrize("typed", ["ada@example.com", "Ada@example.com "])
def test_log_in_with_the_e_mail_address_goes_to_the_picker(client, account, typed):
    response = client.post(
        reverse("accounts:login"), {"username": typed, "password": ACCOUNT_PASSWORD}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:profile_picker")
    assert logged_in_user_id(client) == account.pk


def test_log_in_returns_to_the_page_asked_for(client, account):
    response = client.post(
        reverse("accounts:login") + "?next=/profiles/manage/",
        {
            "username": account.email,
            "password": ACCOUNT_PASSWORD,
            "next": "/profiles/manage/",
        },
    )

    assert response["Location"] == "/profiles/manage/"


def test_log_in_with_a_wrong_password_is_a_form_error(client, account):
    response = client.post(
        reverse("accounts:login"), {"username": account.email, "password": "nope"}
    )

    assert response.status_code == 200
    assert errors(response) == [
        "That e-mail address and password do not match an account. "
        "Check both and try again."
    ]
    assert logged_in_user_id(client) is None


def test_log_out_is_a_post_and_ends_the_session(client, account, profile):
    client.force_login(account)
    choose(client, profile)

    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))

    assert response["Location"] == reverse("accounts:login")
    assert logged_in_user_id(client) is None
    assert ACTIVE_PROFILE_SESSION_KEY not in client.session


def test_client_login_still_works_with_the_lockout_backend(client, account):
    assert client.login(username=account.email, password=ACCOUNT_PASSWORD)
    assert client.login(email=account.email, password=ACCOUNT_PASSWORD)
    assert client.login(
        request=HttpRequest(), username=account.email, password=ACCOUNT_PASSWORD
    )
    assert not client.login(username=account.email, password="wrong")


# --- lockout -------------------------------------------------------------------


def fail_to_log_in(client: Client, email: str, times: int):
    response = None
    for _ in range(times):
        response = client.post(
            reverse("accounts:login"), {"username": email, "password": "wrong-guess"}
        )
    return response


def test_four_failures_still_show_the_form(client, account):
    response = fail_to_log_in(client, account.email, 4)

    assert response.status_code == 200
    assert "Signing in is locked" not in response.content.decode()


def test_five_failures_lock_the_account_with_a_clear_page(client, account):
    response = fail_to_log_in(client, account.email, 5)

    html = response.content.decode()
    assert response.status_code == 429
    assert "accounts/lockout.html" in [t.name for t in response.templates]
    assert "Signing in is locked for now" in html
    assert "after 5 wrong passwords" in html
    assert "is locked for 30 minutes" in html
    assert reverse("accounts:password_reset") in html


def test_after_the_lockout_even_the_right_password_is_refused(client, account):
    fail_to_log_in(client, account.email, 5)

    response = client.post(
        reverse("accounts:login"),
        {"username": account.email, "password": ACCOUNT_PASSWORD},
    )

    assert response.status_code == 429
    assert logged_in_user_id(client) is None
    assert not client.login(username=account.email, password=ACCOUNT_PASSWORD)


def test_the_lockout_counts_an_address_typed_in_any_case_together(client, account):
    fail_to_log_in(client, "ADA@example.com", 3)
    fail_to_log_in(client, "ada@EXAMPLE.com", 2)

    response = client.post(
        reverse("accounts:login"),
        {"username": account.email, "password": ACCOUNT_PASSWORD},
    )

    assert response.status_code == 429
    assert logged_in_user_id(client) is None


# --- passwords -----------------------------------------------------------------


def reset_link(message) -> str:
    match = re.search(
        r"http://testserver(/accounts/password/reset/\S+/\S+/)", message.body
    )
    assert match, message.body
    return match.group(1)


def test_password_reset_mails_a_link_that_sets_a_new_password_and_lifts_a_lockout(
    client, account, on_commit
):
    fail_to_log_in(client, account.email, 5)

    with on_commit():
        response = client.post(
            reverse("accounts:password_reset"), {"email": "ada@example.com"}
        )

    assert response["Location"] == reverse("accounts:password_reset_done")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ada@example.com"]
    assert mail.outbox[0].subject == "Reset your Marquee password"
    form_url = client.get(reset_link(mail.outbox[0]))["Location"]
    assert client.get(form_url).context["validlink"] is True
    response = client.post(
        form_url, {"new_password1": STRONG_PASSWORD, "new_password2": STRONG_PASSWORD}
    )
    assert response["Location"] == reverse("accounts:password_reset_complete")
    account.refresh_from_db()
    assert account.check_password(STRONG_PASSWORD)
    response = client.post(
        reverse("accounts:login"),
        {"username": account.email, "password": STRONG_PASSWORD},
    )
    assert response.status_code == 302
    assert logged_in_user_id(client) == account.pk


def test_a_used_reset_link_no_longer_works(client, account, on_commit):
    with on_commit():
        client.post(reverse("accounts:password_reset"), {"email": account.email})
    link = reset_link(mail.outbox[0])
    form_url = client.get(link)["Location"]
    client.post(
        form_url, {"new_password1": STRONG_PASSWORD, "new_password2": STRONG_PASSWORD}
    )

    response = client.get(link, follow=True)

    assert response.context["validlink"] is False
    assert "This link no longer works" in response.content.decode()


def test_password_reset_for_an_unknown_address_sends_nothing_and_says_the_same(
    client, on_commit
):
    with on_commit():
        response = client.post(
            reverse("accounts:password_reset"), {"email": "who@example.com"}
        )

    assert response["Location"] == reverse("accounts:password_reset_done")
    assert mail.outbox == []


def test_password_change_keeps_the_viewer_logged_in(signed_in, account):
    response = signed_in.post(
        reverse("accounts:password_change"),
        {
            "old_password": ACCOUNT_PASSWORD,
            "new_password1": STRONG_PASSWORD,
            "new_password2": STRONG_PASSWORD,
        },
    )

    assert response["Location"] == reverse("accounts:password_change_done")
    account.refresh_from_db()
    assert account.check_password(STRONG_PASSWORD)
    assert signed_in.get(reverse("accounts:profile_picker")).status_code == 200


# --- the picker ------------------------------------------------------------------


def test_picker_needs_a_log_in(client):
    response = client.get(reverse("accounts:profile_picker"))

    assert response["Location"] == "/accounts/login/?next=/profiles/"


def test_picker_lists_only_the_viewers_profiles_as_buttons(signed_in, account):
    ProfileFactory(user=account, name="Ada")
    ProfileFactory(user=account, name="Kiddo", is_kids=True)
    ProfileFactory(name="Stranger")

    response = signed_in.get(reverse("accounts:profile_picker"))

    html = response.content.decode()
    assert [p.name for p in response.context["profiles"]] == ["Ada", "Kiddo"]
    assert "Stranger" not in html
    assert html.count('<button type="submit" class="picker-profile"') == 2
    assert "Who’s watching?" in html


def test_choosing_a_profile_goes_to_the_home_page_or_the_page_asked_for(
    signed_in, profile
):
    url = reverse("accounts:profile_choose", args=[profile.pk])
    assert signed_in.post(url)["Location"] == "/"
    assert signed_in.post(url, {"next": "/profiles/manage/"})["Location"] == (
        "/profiles/manage/"
    )
    assert signed_in.post(url, {"next": "https://evil.example/"})["Location"] == "/"


def test_choosing_is_a_post(signed_in, profile):
    url = reverse("accounts:profile_choose", args=[profile.pk])

    assert signed_in.get(url).status_code == 405
    assert ACTIVE_PROFILE_SESSION_KEY not in signed_in.session


def test_header_shows_the_active_profile_and_a_sign_out_button(signed_in, profile):
    choose(signed_in, profile)

    html = signed_in.get(reverse("accounts:profile_picker")).content.decode()

    assert 'class="avatar avatar-blue avatar-small" aria-hidden="true">A</span>' in html
    assert '<span class="profile-menu-name">Ada</span>' in html
    assert f'action="{reverse("accounts:logout")}"' in html
    assert '<button type="submit" class="button button-quiet">Sign out</button>' in html


def test_header_offers_sign_in_and_sign_up_to_the_anonymous(client):
    html = client.get(reverse("accounts:login")).content.decode()

    assert f'<a href="{reverse("accounts:login")}">Sign in</a>' in html
    assert f'href="{reverse("accounts:signup")}">Sign up</a>' in html
    assert "Sign out" not in html


# --- managing profiles -----------------------------------------------------------


def test_create_a_profile(signed_in, account, profile):
    response = signed_in.post(
        reverse("accounts:profile_create"),
        {"name": "Kiddo", "avatar_color": "#2ecc71", "is_kids": "on"},
    )

    # The new profile is the one watching, and it starts with onboarding.
    assert response["Location"] == reverse("catalog:onboarding")
    kiddo = account.profiles.get(name="Kiddo")
    assert (kiddo.avatar_color, kiddo.is_kids) == ("#2ecc71", True)
    assert signed_in.session[ACTIVE_PROFILE_SESSION_KEY] == kiddo.pk


def test_the_colour_is_a_labelled_radio_group(signed_in, profile):
    html = signed_in.get(reverse("accounts:profile_create")).content.decode()

    assert "<legend>Colour</legend>" in html
    for i, (value, label) in enumerate(Profile.AvatarColor.choices):
        assert f'<label class="swatch-option" for="id_avatar_color_{i}">' in html
        assert f'value="{value}"' in html
        assert f'<span class="swatch-name">{label}</span>' in html


def test_a_sixth_profile_is_refused_with_a_clear_message(signed_in, account):
    ProfileFactory.create_batch(5, user=account)

    page = signed_in.get(reverse("accounts:profile_create"))
    response = signed_in.post(
        reverse("accounts:profile_create"), {"name": "Sixth", "avatar_color": "#e50914"}
    )

    for shown in (page, response):
        assert "You already have 5 profiles, the most an account can have." in (
            shown.content.decode()
        )
        assert 'name="name"' not in shown.content.decode()
    assert response.status_code == 409
    assert account.profiles.count() == 5
    manage = signed_in.get(reverse("accounts:profile_manage")).content.decode()
    assert "Add profile" not in manage


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "", "avatar_color": "#e50914"}, "name", "This field is required."),
        ({"name": "   ", "avatar_color": "#e50914"}, "name", "This field is required."),
        ({"name": "x" * 1024, "avatar_color": "#e50914"}, "name",
         "Ensure this value has at most 40 characters (it has 1024)."),
        ({"name": "Zed", "avatar_color": "#123456"}, "avatar_color",
         "Select a valid choice. #123456 is not one of the available choices."),
        ({"name": "Zed", "avatar_color": "x" * 1024}, "avatar_color", None),
        ({"name": "ada", "avatar_color": "#e50914"}, "name",
         "You already have a profile called “ada”."),
    ],
)  # fmt: skip
def test_bad_profile_input_is_a_form_error(
    signed_in, account, profile, data, field, message
):
    for url in (
        reverse("accounts:profile_create"),
        reverse("accounts:profile_update", args=[ProfileFactory(user=account).pk]),
    ):
        before = sorted(account.profiles.values_list("name", "avatar_color"))
        response = signed_in.post(url, data)

        assert response.status_code == 200
        assert errors(response, field)
        if message:
            assert message in errors(response, field)
        assert sorted(account.profiles.values_list("name", "avatar_color")) == before


def test_rename_recolour_and_mark_kids(signed_in, profile):
    response = signed_in.post(
        reverse("accounts:profile_update", args=[profile.pk]),
        {"name": "Ada L.", "avatar_color": "#9b59b6", "is_kids": "on"},
    )

    assert response["Location"] == reverse("accounts:profile_manage")
    profile.refresh_from_db()
    assert (profile.name, profile.avatar_color, profile.is_kids) == (
        "Ada L.",
        "#9b59b6",
        True,
    )


def test_edit_form_starts_from_the_profile(signed_in, profile):
    response = signed_in.get(reverse("accounts:profile_update", args=[profile.pk]))

    assert response.context["form"].initial == {
        "name": "Ada",
        "avatar_color": Profile.AvatarColor.BLUE,
        "is_kids": False,
    }


def test_delete_asks_for_confirmation_first(signed_in, account, profile):
    other = ProfileFactory(user=account, name="Bo")
    RatingFactory(profile=other)

    page = signed_in.get(reverse("privacy:profile_delete", args=[other.pk]))

    assert page.status_code == 200
    assert "Delete the profile “Bo”?" in page.content.decode()
    assert Profile.objects.filter(pk=other.pk).exists()

    response = signed_in.post(reverse("privacy:profile_delete", args=[other.pk]))

    assert response["Location"] == reverse("accounts:profile_manage")
    assert list(account.profiles.all()) == [profile]
    assert Rating.objects.count() == 0


def test_deleting_the_active_profile_forgets_it(signed_in, account, profile):
    other = ProfileFactory(user=account, name="Bo")
    choose(signed_in, other)

    signed_in.post(reverse("privacy:profile_delete", args=[other.pk]))

    assert ACTIVE_PROFILE_SESSION_KEY not in signed_in.session


def test_the_last_profile_cannot_be_deleted(signed_in, profile):
    response = signed_in.post(reverse("privacy:profile_delete", args=[profile.pk]))

    assert response.status_code == 409
    assert "the last one cannot be deleted" in response.content.decode()
    assert Profile.objects.filter(pk=profile.pk).exists()


FOREIGN_PROFILE_URLS = [
    ("post", "accounts:profile_choose", {}),
    ("get", "accounts:profile_update", {}),
    ("post", "accounts:profile_update", {"name": "Hacked", "avatar_color": "#e50914", "is_kids": "on"}),
    ("get", "privacy:profile_delete", {}),
    ("post", "privacy:profile_delete", {}),
]  # fmt: skip


@pytest.mark.parametrize(("method", "name", "data"), FOREIGN_PROFILE_URLS)
def test_another_users_profile_is_a_404_and_nothing_changes(
    signed_in, profile, method, name, data
):
    foreign = ProfileFactory(name="Theirs", avatar_color=Profile.AvatarColor.GREEN)
    ProfileFactory(user=foreign.user, name="Theirs too")

    response = getattr(signed_in, method)(reverse(name, args=[foreign.pk]), data)

    assert response.status_code == 404
    foreign.refresh_from_db()
    assert (foreign.name, foreign.avatar_color, foreign.is_kids) == (
        "Theirs",
        "#2ecc71",
        False,
    )
    assert foreign.user.profiles.count() == 2
    assert ACTIVE_PROFILE_SESSION_KEY not in signed_in.session


@pytest.mark.parametrize(("method", "name", "data"), FOREIGN_PROFILE_URLS)
def test_a_missing_profile_id_is_a_404(signed_in, profile, method, name, data):
    response = getattr(signed_in, method)(reverse(name, args=[999_999]), data)

    assert response.status_code == 404


# --- kids profiles and account pages ---------------------------------------------


@pytest.fixture
def on_kids_profile(signed_in, account, profile) -> Client:
    kids = ProfileFactory(user=account, name="Kiddo", is_kids=True)
    choose(signed_in, kids)
    return signed_in


ACCOUNT_PAGES = [
    "accounts:profile_manage",
    "accounts:profile_create",
    "accounts:password_change",
]


@pytest.mark.parametrize("page", ACCOUNT_PAGES)
def test_a_kids_profile_is_asked_for_the_account_password(on_kids_profile, page):
    response = on_kids_profile.get(reverse(page))

    assert response.status_code == 302
    assert response["Location"] == (
        f"{reverse('accounts:confirm_password')}?next={reverse(page).replace('/', '%2F')}"
    )


def test_a_kids_profile_cannot_edit_or_delete_profiles_without_it(
    on_kids_profile, profile
):
    for name in ("accounts:profile_update", "privacy:profile_delete"):
        response = on_kids_profile.post(
            reverse(name, args=[profile.pk]),
            {"name": "Renamed", "avatar_color": "#e50914"},
        )
        assert response.status_code == 302
    profile.refresh_from_db()
    assert profile.name == "Ada"


def test_a_wrong_account_password_is_a_form_error(on_kids_profile):
    response = on_kids_profile.post(
        reverse("accounts:confirm_password"),
        {"password": "guess", "next": reverse("accounts:profile_manage")},
    )

    assert response.status_code == 200
    assert errors(response, "password") == ["That is not the account password."]
    assert on_kids_profile.get(reverse("accounts:profile_manage")).status_code == 302


def test_the_right_account_password_opens_account_pages(on_kids_profile):
    response = on_kids_profile.post(
        reverse("accounts:confirm_password"),
        {"password": ACCOUNT_PASSWORD, "next": reverse("accounts:profile_manage")},
    )

    assert response["Location"] == reverse("accounts:profile_manage")
    for page in ACCOUNT_PAGES:
        assert on_kids_profile.get(reverse(page)).status_code == 200


def test_guessing_the_account_password_counts_towards_the_lockout(on_kids_profile):
    for _ in range(5):
        response = on_kids_profile.post(
            reverse("accounts:confirm_password"), {"password": "guess"}
        )

    assert response.status_code == 429
    response = on_kids_profile.post(
        reverse("accounts:confirm_password"), {"password": ACCOUNT_PASSWORD}
    )
    assert response.status_code == 429
    assert on_kids_profile.get(reverse("accounts:profile_manage")).status_code == 302


def test_leaving_a_kids_profile_for_a_grown_up_one_needs_the_password(
    on_kids_profile, account, profile
):
    response = choose(on_kids_profile, profile)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:confirm_password"))
    assert on_kids_profile.session[ACTIVE_PROFILE_SESSION_KEY] != profile.pk

    on_kids_profile.post(
        reverse("accounts:confirm_password"), {"password": ACCOUNT_PASSWORD}
    )
    choose(on_kids_profile, profile)
    assert on_kids_profile.session[ACTIVE_PROFILE_SESSION_KEY] == profile.pk


def test_a_grown_up_profile_opens_account_pages_at_once(signed_in, profile):
    choose(signed_in, profile)

    for page in ACCOUNT_PAGES:
        assert signed_in.get(reverse(page)).status_code == 200


# --- pages work without JavaScript and under a strict CSP ------------------------


class ScriptAndHandlerFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.unlabelled: set[str] = set()
        self.labels: set[str] = set()

    def handle_starttag(self, tag, attrs) -> None:
        attrs = dict(attrs)
        if tag == "script" and not attrs.get("src"):
            self.problems.append("inline <script>")
        self.problems += [f"{tag} {name}=" for name in attrs if name.startswith("on")]
        if "style" in attrs:
            self.problems.append(f"{tag} style=")
        if tag == "label" and attrs.get("for"):
            self.labels.add(attrs["for"])
        if (
            tag in ("input", "select", "textarea")
            and attrs.get("type") not in ("hidden", "submit")
            and "hidden" not in attrs
        ):
            self.unlabelled.add(attrs.get("id", "?"))


def test_account_pages_have_no_inline_script_and_label_every_field(
    client, account, profile
):
    anonymous_pages = [
        reverse("accounts:login"),
        reverse("accounts:signup"),
        reverse("accounts:password_reset"),
        reverse("accounts:password_reset_done"),
    ]
    signed_in_pages = [
        reverse("accounts:profile_picker"),
        reverse("accounts:profile_manage"),
        reverse("accounts:profile_create"),
        reverse("accounts:profile_update", args=[profile.pk]),
        reverse("privacy:profile_delete", args=[profile.pk]),
        reverse("accounts:password_change"),
        reverse("accounts:confirm_password"),
    ]
    pages = [(url, client.get(url)) for url in anonymous_pages]
    client.force_login(account)
    choose(client, profile)
    pages += [(url, client.get(url)) for url in signed_in_pages]

    for url, response in pages:
        assert response.status_code == 200, url
        finder = ScriptAndHandlerFinder()
        finder.feed(response.content.decode())
        assert finder.problems == [], url
        assert finder.unlabelled - finder.labels == set(), url
