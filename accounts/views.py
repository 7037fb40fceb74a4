"""Sign-up, log-in, the profile picker, profile management and access tokens.

Views stay thin: they check access, hand clean input to :mod:`accounts.services`
and render. Log-in, log-out and the password pages are Django's own views,
configured in :mod:`accounts.urls`.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import PasswordResetConfirmView
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from accounts import services
from accounts.access import (
    access_profile,
    account_password_confirm,
    account_password_needed,
    account_password_required,
    profile_activate,
)
from accounts.forms import ConfirmPasswordForm, ProfileForm, SignupForm, TokenForm
from accounts.models import AccessToken, Profile
from accounts.throttle import (
    TOKEN_CREATE,
    TOKEN_CREATE_IP,
    by_account,
    by_ip,
    by_posted_email,
    throttle,
)
from catalog.selectors import profile_needs_onboarding

HOME_URL = "/"


def _data(request: HttpRequest):
    """The posted data, so that an empty POST still gets "this field is required"."""
    return request.POST if request.method == "POST" else None


def _safe_next(request: HttpRequest, default: str) -> str:
    """The ``next`` the request carries if it points into this site, else ``default``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


# --- account ------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@throttle("signup-ip", key=by_ip)
@throttle("signup-email", key=by_posted_email)
def signup(request: HttpRequest) -> HttpResponse:
    """Sign-up; an address that has an account gets the same answer as a new
    one (a redirect to onboarding), and its owner an e-mail, so the page does
    not say which addresses have accounts.

    A new account is logged in at once, so its session cookie still differs;
    only activation by an e-mailed link before the first log-in would hide
    that too, and it would change the new viewer's journey.
    """
    if request.user.is_authenticated:
        return redirect("accounts:profile_picker")
    form = SignupForm(_data(request))
    if request.method == "POST" and form.is_valid():
        user = services.user_signup(
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
            profile_name=form.cleaned_data["name"],
            domain=request.get_host(),
            use_https=request.is_secure(),
        )
        if user is None:
            return redirect("catalog:onboarding")
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, "Welcome to Marquee! Your account is ready.")
        return _start_watching(request, user.profiles.get())
    return render(request, "accounts/signup.html", {"form": form})


@require_http_methods(["GET", "POST"])
@login_required
def confirm_password(request: HttpRequest) -> HttpResponse:
    """Asks a kids profile for the account password before an account page."""
    next_url = _safe_next(request, reverse("accounts:profile_manage"))
    form = ConfirmPasswordForm(request, _data(request))
    if request.method == "POST" and form.is_valid():
        account_password_confirm(request)
        return HttpResponseRedirect(next_url)
    return render(
        request, "accounts/confirm_password.html", {"form": form, "next": next_url}
    )


class ResetPasswordConfirmView(PasswordResetConfirmView):
    """Django's "choose a new password" page; it also lifts a log-in lockout.

    Whoever sets a new password here has proved they read the account's
    e-mail, so they need not wait out failures counted against it.
    """

    def form_valid(self, form):
        response = super().form_valid(form)
        services.login_lockout_clear(user=form.user)
        return response


# --- profiles -----------------------------------------------------------------


@require_http_methods(["GET"])
@login_required
def profile_picker(request: HttpRequest) -> HttpResponse:
    """Who's watching?"""
    profiles = list(request.user.profiles.all())
    return render(
        request,
        "accounts/profile_picker.html",
        {
            "profiles": profiles,
            "can_add": len(profiles) < Profile.MAX_PER_USER,
            "next": _safe_next(request, ""),
        },
    )


@require_POST
@login_required
def profile_choose(request: HttpRequest, profile_id: int) -> HttpResponse:
    profile = access_profile(request.user, profile_id)
    next_url = _safe_next(request, HOME_URL)
    if not profile.is_kids and account_password_needed(request):
        # Leaving a kids profile for a grown-up one is an account decision.
        picker = reverse("accounts:profile_picker")
        if next_url != HOME_URL:
            picker = f"{picker}?{urlencode({'next': next_url})}"
        confirm = reverse("accounts:confirm_password")
        return redirect(f"{confirm}?{urlencode({'next': picker})}")
    profile_activate(request, profile)
    return HttpResponseRedirect(next_url)


@require_http_methods(["GET"])
@account_password_required
def profile_manage(request: HttpRequest) -> HttpResponse:
    profiles = list(request.user.profiles.all())
    return render(
        request,
        "accounts/profile_manage.html",
        {
            "profiles": profiles,
            "can_add": len(profiles) < Profile.MAX_PER_USER,
            "max_profiles": Profile.MAX_PER_USER,
        },
    )


@require_http_methods(["GET", "POST"])
@account_password_required
def profile_create(request: HttpRequest) -> HttpResponse:
    at_limit = request.user.profiles.count() >= Profile.MAX_PER_USER
    form = ProfileForm(_data(request))
    if request.method == "POST" and not at_limit and form.is_valid():
        try:
            profile = services.profile_create(user=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Profile “{profile.name}” added.")
            return _start_watching(request, profile)
    return render(
        request,
        "accounts/profile_form.html",
        {"form": form, "at_limit": at_limit, "max_profiles": Profile.MAX_PER_USER},
        status=409 if at_limit and request.method == "POST" else 200,
    )


def _start_watching(request: HttpRequest, profile: Profile) -> HttpResponse:
    """Makes a new profile the active one, then onboarding (or home for a
    profile that already has ratings or picks)."""
    profile_activate(request, profile)
    if profile_needs_onboarding(profile):
        return redirect("catalog:onboarding")
    return HttpResponseRedirect(HOME_URL)


@require_http_methods(["GET", "POST"])
@account_password_required
def profile_update(request: HttpRequest, profile_id: int) -> HttpResponse:
    profile = access_profile(request.user, profile_id)
    form = ProfileForm.for_profile(profile, _data(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.profile_update(profile=profile, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Profile “{profile.name}” saved.")
            return redirect("accounts:profile_manage")
    return render(
        request, "accounts/profile_form.html", {"form": form, "profile": profile}
    )


# --- access tokens --------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@account_password_required
@throttle(TOKEN_CREATE, key=by_account)
@throttle(TOKEN_CREATE_IP, key=by_ip)
def tokens(request: HttpRequest) -> HttpResponse:
    """The account's personal access tokens; POST makes one.

    The new token's secret is in this one answer and nowhere else (not the
    session, not a redirect): the page then shows only its prefix.
    """
    form = TokenForm(request.user, _data(request))
    created = secret = None
    if request.method == "POST" and form.is_valid():
        try:
            created, secret = services.token_create(
                user=request.user, **form.token_fields()
            )
        except ValidationError as error:
            _add_service_error(form, error)
        else:
            form = TokenForm(request.user)
    return render(
        request,
        "accounts/tokens.html",
        {
            "form": form,
            "tokens": request.user.tokens.select_related("profile"),
            "created": created,
            "secret": secret,
        },
    )


def _add_service_error(form, error: ValidationError) -> None:
    """A service's refusal on the form: on its field when the form has one."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


@require_POST
@account_password_required
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(AccessToken, pk=token_id, user=request.user)
    services.token_revoke(token=token)
    messages.success(
        request, f"Token “{token.name}” revoked: programs using it are signed out."
    )
    return redirect("accounts:tokens")
