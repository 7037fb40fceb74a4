"""Forms for signing up, logging in, confirming the password and editing profiles.

Forms validate input; the writes are in :mod:`accounts.services`.
"""

from datetime import timedelta

from django import forms
from django.contrib.auth import authenticate, password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.http import HttpRequest
from django.utils import timezone

from accounts import services
from accounts.models import AccessToken, Profile, User


class SignupForm(forms.Form):
    name = forms.CharField(
        label="Your name",
        max_length=Profile._meta.get_field("name").max_length,
        help_text="Your first profile’s name, shown on your home page. "
        "You can change it, and add profiles for others, later.",
        widget=forms.TextInput(attrs={"autocomplete": "given-name", "autofocus": True}),
    )
    email = forms.EmailField(
        label="E-mail address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="The same password, to catch a typing mistake.",
    )

    def clean_email(self) -> str:
        # Whether the address has an account is never said here (it would
        # tell anybody who has an account): the service mails its owner.
        return User.objects.normalize_email(self.cleaned_data["email"])

    def clean(self) -> dict:
        cleaned = super().clean()
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error(
                "password2",
                forms.ValidationError(
                    "The two passwords are different.", code="password_mismatch"
                ),
            )
        elif password1:
            try:
                password_validation.validate_password(
                    password1, user=User(email=cleaned.get("email") or "")
                )
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class EmailAuthenticationForm(AuthenticationForm):
    """Django's log-in form, asking for the e-mail address."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That e-mail address and password do not match an "
        "account. Check both and try again.",
    }

    def __init__(self, request: HttpRequest | None = None, *args, **kwargs) -> None:
        super().__init__(request, *args, **kwargs)
        username = self.fields["username"]
        username.label = "E-mail address"
        username.widget.input_type = "email"


class PasswordResetRequestForm(PasswordResetForm):
    """Django's "forgot your password" form, handing the mail to a worker.

    Saving records the same outbox row for any address, so the page answers
    alike, and as fast, for an address with an account and one without.
    """

    def save(self, *, request: HttpRequest, use_https: bool = False, **ignored):
        services.password_reset_request(
            email=self.cleaned_data["email"],
            domain=ignored.get("domain_override") or request.get_host(),
            use_https=use_https,
        )


class ConfirmPasswordForm(forms.Form):
    """The account password, typed again on a kids profile.

    It goes through ``authenticate()``, so wrong guesses count towards the
    same lockout as failed log-ins.
    """

    password = forms.CharField(
        label="Account password",
        strip=False,
        widget=forms.PasswordInput(
            attrs={"autocomplete": "current-password", "autofocus": True}
        ),
    )

    def __init__(self, request: HttpRequest, *args, **kwargs) -> None:
        self.request = request
        super().__init__(*args, **kwargs)

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        user = self.request.user
        checked = authenticate(self.request, username=user.email, password=password)
        if checked is None or checked.pk != user.pk:
            raise forms.ValidationError(
                "That is not the account password.", code="wrong_password"
            )
        return password


class ProfileForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=Profile._meta.get_field("name").max_length,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    avatar_color = forms.ChoiceField(
        label="Colour",
        choices=Profile.AvatarColor.choices,
        initial=Profile.AvatarColor.BLUE,
        widget=forms.RadioSelect,
    )
    is_kids = forms.BooleanField(
        label="Kids profile",
        required=False,
        help_text="Shows only titles made for children. Account pages ask for "
        "the account password.",
    )

    @classmethod
    def for_profile(cls, profile: Profile, data=None) -> "ProfileForm":
        return cls(
            data,
            initial={
                "name": profile.name,
                "avatar_color": profile.avatar_color,
                "is_kids": profile.is_kids,
            },
        )


class TokenForm(forms.Form):
    """A new personal access token: what :func:`accounts.services.token_create`
    takes, with the expiry as a number of days from now."""

    MAX_DAYS = 3650

    name = forms.CharField(
        label="Name",
        max_length=AccessToken._meta.get_field("name").max_length,
        help_text="Which program will hold it, e.g. “Living-room TV”.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    scope = forms.ChoiceField(
        label="It may",
        choices=[
            (AccessToken.Scope.READ, "Read only: see profiles, titles and rows"),
            (
                AccessToken.Scope.READ_WRITE,
                "Read and write activity: also rate, add to My List, watch",
            ),
            (
                AccessToken.Scope.ACCOUNT,
                "Full account access: also settings, exports, erasure, profiles "
                "and tokens",
            ),
        ],
        initial=AccessToken.Scope.READ_WRITE,
        widget=forms.RadioSelect,
    )
    profile = forms.ModelChoiceField(
        label="For",
        queryset=Profile.objects.none(),
        required=False,
        empty_label="Every profile",
        help_text="Tie it to one profile, so it can act for that profile alone. "
        "A kids profile's token cannot have full account access.",
    )
    expires_in_days = forms.IntegerField(
        label="Expires after (days)",
        required=False,
        min_value=1,
        max_value=MAX_DAYS,
        help_text="Empty: it works until you revoke it.",
    )

    def __init__(self, user: User, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["profile"].queryset = user.profiles.all()

    def token_fields(self) -> dict:
        """The cleaned data as :func:`accounts.services.token_create`'s arguments."""
        days = self.cleaned_data["expires_in_days"]
        return {
            "name": self.cleaned_data["name"],
            "scope": self.cleaned_data["scope"],
            "profile": self.cleaned_data["profile"],
            "expires_at": timezone.now() + timedelta(days=days) if days else None,
        }
