"""Pages to download one's data and to erase it.

- ``/privacy/export/``: "Download my data"; the export's progress is polled
  with htmx (the same view serves the page and the fragment) until a
  download link shows, when the request form is sent again (out of band) so
  that its button is enabled; ``/privacy/export/<id>/download/`` serves the
  zip to its owner only, until it expires.
- ``/privacy/erase/``: erase one category of a profile, a profile (account
  password), or the whole account (password and the account's e-mail typed
  out); single items are erased from the ledger and the shelves
  (:mod:`privacy.views`). Erasing the account logs out and shows the
  anonymous receipt.

Views stay thin: access checks and forms here, every write in
:mod:`privacy.services`.
"""

from pathlib import Path

from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import (
    access_profile,
    account_password_required,
    profile_deactivate,
)
from accounts.forms import ConfirmPasswordForm
from accounts.models import Profile
from config.links import parse_id
from privacy import receipts, selectors, services
from privacy.models import DataExport, ErasureReceipt

# --- export -------------------------------------------------------------------------


#: An export in one of these is still being built: no second one is asked for.
_BUSY = (DataExport.Status.PENDING, DataExport.Status.RUNNING)


def _export_context(request: HttpRequest, **extra) -> dict:
    exports = list(DataExport.objects.filter(user=request.user)[:10])
    return {
        "exports": exports,
        "busy": any(e.status in _BUSY for e in exports),
        # A zip to download is then the page's main action, not a new export.
        "has_ready": any(e.status == DataExport.Status.READY for e in exports),
        "max_per_day": DataExport.MAX_PER_DAY,
        "lifetime_days": DataExport.LIFETIME_DAYS,
        "ready_within": selectors.export_ready_within(),
        **extra,
    }


@never_cache
@require_http_methods(["GET", "POST"])
@account_password_required
def export_page(request: HttpRequest) -> HttpResponse:
    """The exports of the account, and the button that asks for a new one."""
    if request.method == "POST":
        try:
            services.data_export_request(user=request.user)
        except services.ExportLimitReached as refused:
            return render(
                request,
                "privacy/export.html",
                _export_context(request, error=str(refused)),
                status=429,
            )
        messages.success(
            request,
            f"Your export is being built: {selectors.export_ready_within()}. "
            "Its download link appears below when it is ready.",
        )
        return redirect("privacy:export")
    return render(request, "privacy/export.html", _export_context(request))


@never_cache
@require_GET
@account_password_required
def export_status(request: HttpRequest, export_id: int) -> HttpResponse:
    """One export's progress: the polled fragment, or the whole export page."""
    export = get_object_or_404(DataExport, pk=export_id, user=request.user)
    if request.htmx:
        finished = export.status not in _BUSY
        context = {"export": export, "finished": finished}
        if finished:  # the request form follows: it may be used again
            context |= _export_context(request)
        return render(request, "privacy/export.html#export_polled", context)
    return render(request, "privacy/export.html", _export_context(request))


def export_file_response(*, user, export_id: int) -> FileResponse:
    """The zip of ``user``'s export, until it expires; anything else is 404
    (another person's, not ready, expired, or its file gone). Shared by the
    page and the API."""
    export = get_object_or_404(
        DataExport,
        pk=export_id,
        user=user,
        status=DataExport.Status.READY,
        expires_at__gt=timezone.now(),
    )
    path = Path(export.file)
    if not export.file or not path.is_file():
        raise Http404("This export's file is gone.")
    response = FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=f"marquee-data-{export.created_at:%Y-%m-%d}-{export.pk}.zip",
        content_type="application/zip",
    )
    response["Cache-Control"] = "private, no-store"
    return response


@never_cache
@require_GET
@account_password_required
def export_download(request: HttpRequest, export_id: int) -> FileResponse:
    """The zip, for its owner only and until it expires; anything else is 404."""
    return export_file_response(user=request.user, export_id=export_id)


# --- erasure -----------------------------------------------------------------------


class _PasswordForm(ConfirmPasswordForm):
    """The account password (checked like a log-in, so guesses count towards
    the lock-out), on a page where it is not the only field."""

    def __init__(self, request: HttpRequest, *args, **kwargs) -> None:
        super().__init__(request, *args, **kwargs)
        self.fields["password"].widget.attrs.pop("autofocus", None)


class EraseCategoryForm(forms.Form):
    category = forms.ChoiceField(
        label="What to erase",
        choices=[(key, c.label.capitalize()) for key, c in services.CATEGORIES.items()],
    )


class EraseProfileForm(_PasswordForm):
    pass


class EraseAccountForm(_PasswordForm):
    confirm = forms.CharField(
        label="Type your account's e-mail address to confirm",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def clean_confirm(self) -> str:
        typed = self.cleaned_data["confirm"].strip()
        if typed.casefold() != self.request.user.email.casefold():
            raise forms.ValidationError(
                "That is not this account's e-mail address.", code="confirm"
            )
        return typed


def _posted_profile(request: HttpRequest) -> Profile:
    """The profile named by the form: one of the user's, else 404; 400 if unreadable."""
    pk = parse_id(request.POST.get("profile", ""))
    if pk is None:
        raise _BadRequest("Choose a profile.")
    return access_profile(request.user, pk)


class _BadRequest(Exception):
    pass


def _bad_request(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "privacy/erase_error.html", {"message": message}, status=400)


def _erase_context(request: HttpRequest, **forms_) -> dict:
    return {
        "profiles": list(Profile.objects.filter(user=request.user)),
        "category_form": forms_.get("category_form") or EraseCategoryForm(),
        "profile_form": forms_.get("profile_form")
        or EraseProfileForm(request, prefix="profile"),
        "account_form": forms_.get("account_form")
        or EraseAccountForm(request, prefix="account"),
        "chosen_profile": forms_.get("chosen_profile"),
    }


@never_cache
@require_GET
@account_password_required
def erase_page(request: HttpRequest) -> HttpResponse:
    """Choose what to erase: a category of a profile, a profile, the account."""
    return render(request, "privacy/erase.html", _erase_context(request))


def _back(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("privacy:erase")


@require_POST
@account_password_required
def erase_category(request: HttpRequest) -> HttpResponse:
    try:
        profile = _posted_profile(request)
    except _BadRequest as bad:
        return _bad_request(request, str(bad))
    form = EraseCategoryForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "privacy/erase.html",
            _erase_context(request, category_form=form, chosen_profile=profile.pk),
            status=400,
        )
    category = form.cleaned_data["category"]
    if request.POST.get("preview") == "1":
        preview = receipts.erase_category_receipt(
            profile=profile, category=category, preview=True
        )
        context = _erase_context(request, chosen_profile=profile.pk)
        context.update(
            preview=preview, preview_category=category, preview_profile=profile
        )
        return render(request, "privacy/erase.html", context)
    receipt = receipts.erase_category_receipt(profile=profile, category=category)
    messages.success(
        request,
        f"Erased {receipt.result} of {profile.name}’s "
        f"{services.CATEGORIES[category].label}.",
    )
    messages.info(request, receipt.text)
    return redirect(_back(request))


@require_POST
@account_password_required
def erase_profile(request: HttpRequest) -> HttpResponse:
    try:
        profile = _posted_profile(request)
    except _BadRequest as bad:
        return _bad_request(request, str(bad))
    form = EraseProfileForm(request, request.POST, prefix="profile")
    if form.is_valid():
        was_active = request.profile is not None and request.profile.pk == profile.pk
        name = profile.name
        try:
            counts = services.erase_profile(profile=profile)
        except services.ErasureRefused as refused:
            form.add_error(None, str(refused))
        else:
            if was_active:
                profile_deactivate(request)
            messages.success(
                request,
                f"The profile “{name}” and its {sum(counts.values())} rows are erased.",
            )
            return redirect("privacy:erase")
    return render(
        request,
        "privacy/erase.html",
        _erase_context(request, profile_form=form, chosen_profile=profile.pk),
        status=400,
    )


@require_POST
@account_password_required
def erase_account(request: HttpRequest) -> HttpResponse:
    form = EraseAccountForm(request, request.POST, prefix="account")
    if not form.is_valid():
        return render(
            request,
            "privacy/erase.html",
            _erase_context(request, account_form=form),
            status=400,
        )
    receipt = services.erase_account(user=request.user)
    logout(request)
    return redirect("privacy:erase_receipt", reference=receipt.reference)


@require_GET
def erase_receipt(request: HttpRequest, reference: str) -> HttpResponse:
    """The anonymous receipt of an account erasure, for whoever has its reference."""
    receipt = get_object_or_404(ErasureReceipt, reference=reference)
    rows = [
        (_table_name(label), count)
        for label, count in sorted(receipt.row_counts.items())
    ]
    return render(
        request,
        "privacy/erase_receipt.html",
        {
            "receipt": receipt,
            "rows": rows,
            "total": sum(receipt.row_counts.values()),
        },
    )


def _table_name(label: str) -> str:
    from django.apps import apps

    if label == "accounts.User":
        return "Account"
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        return label
    return str(model._meta.verbose_name_plural).capitalize()
