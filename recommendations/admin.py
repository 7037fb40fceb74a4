from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.admin.widgets import AutocompleteSelectMultiple
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.timezone import localtime
from django.views.decorators.http import require_http_methods

from catalog.models import CollectionItem, Genre, Title
from config.links import parse_id
from recommendations import model_room
from recommendations.home.page import home_for_tastes
from recommendations.models import ModelVersion, ProfileCandidates, TuningRun
from recommendations.services import training, training_progress


class ReasonForm(forms.Form):
    """Why an operator trains, promotes or rolls back: kept in the admin log."""

    reason = forms.CharField(
        label="Why?",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Kept in the admin log with your name.",
    )


def asked_why(
    request: HttpRequest,
    model_admin: admin.ModelAdmin,
    *,
    title: str,
    summary: str,
    confirm: str,
    hidden: list[tuple[str, object]],
    back: str,
    crumbs: list[tuple[str, str]] = (),
    stylesheet: str = "css/admin-model-room.css",
) -> str | TemplateResponse:
    """The reason an operator gave on an action's confirmation page, or that
    page (again, answered 400, when the reason was left empty). ``crumbs``:
    (url, label) between the model's list and the title; ``back``: where
    "No, take me back" goes."""
    form = ReasonForm(request.POST if "confirmed" in request.POST else None)
    if form.is_valid():
        return form.cleaned_data["reason"]
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": title,
        "summary": summary,
        "confirm": confirm,
        "form": form,
        "hidden": hidden,
        "back": back,
        "crumbs": crumbs,
        "stylesheet": stylesheet,
    }
    return TemplateResponse(
        request,
        "admin/recommendations/confirm.html",
        context,
        status=400 if form.is_bound else 200,
    )


CHECKSUM_LABELS = {
    "verified": "verified",
    "failed": "failed",
    "missing": "missing",
    "none": "—",
}


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    """The model room: every version with its figures, a chart of them, a diff
    of two, the training under way, and the actions each asked "why"."""

    list_display = [
        "id",
        "algorithm",
        "key_parameters",
        "trained_at",
        "duration",
        "data",
        "rmse_column",
        "ndcg_column",
        "coverage_column",
        "popularity_column",
        "diversity_column",
        "status_and_reason",
        "checksum",
    ]
    # No filter sidebar: the list needs the page's width for its figures.
    readonly_fields = [f.name for f in ModelVersion._meta.fields]
    actions = ["promote", "rollback", "compare"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    # --- columns -----------------------------------------------------------------

    @admin.display(description="Parameters")
    def key_parameters(self, version: ModelVersion) -> str:
        shown = model_room.key_parameters(version)
        if not shown:
            return "—"
        return format_html_join(
            "", '<span class="model-param">{}</span>', ((p,) for p in shown)
        )

    @admin.display(description="Trained at", ordering="created_at")
    def trained_at(self, version: ModelVersion) -> str:
        return localtime(version.created_at).strftime("%Y-%m-%d %H:%M")

    @admin.display(description="Duration")
    def duration(self, version: ModelVersion) -> str:
        seconds = model_room.duration_s(version)
        return "—" if seconds is None else _seconds(seconds)

    @admin.display(description="Data")
    def data(self, version: ModelVersion) -> str:
        counts = version.data_counts or {}
        if not counts:
            return "—"
        return format_html(
            '<span class="model-data">{} rows</span>'
            '<span class="model-data">{} profiles</span>'
            '<span class="model-data">{} titles</span>',
            counts.get("rows", "?"),
            counts.get("profiles", "?"),
            counts.get("titles", "?"),
        )

    def _metric(self, version: ModelVersion, key: str) -> str:
        value = model_room.metric_value(version, key)
        if value is None:
            return "—"
        return f"{value:.{model_room.METRICS_BY_KEY[key].digits}f}"

    @admin.display(description="RMSE")
    def rmse_column(self, version: ModelVersion) -> str:
        return self._metric(version, "rmse")

    @admin.display(description="NDCG@10 (time split)")
    def ndcg_column(self, version: ModelVersion) -> str:
        return self._metric(version, "ndcg")

    @admin.display(description="Coverage")
    def coverage_column(self, version: ModelVersion) -> str:
        return self._metric(version, "coverage")

    @admin.display(description="Popularity percentile")
    def popularity_column(self, version: ModelVersion) -> str:
        return self._metric(version, "popularity_percentile")

    @admin.display(description="Diversity")
    def diversity_column(self, version: ModelVersion) -> str:
        return self._metric(version, "diversity")

    @admin.display(description="Status", ordering="status")
    def status_and_reason(self, version: ModelVersion) -> str:
        """A failed version stands out, with why (a refused file, a dead worker,
        Cancel); a running one says which stage it is in."""
        if version.status == ModelVersion.Status.FAILED:
            cancelled = version.error.startswith(training_progress.CANCELLED)
            return format_html(
                '<strong class="model-failed">{}</strong><br>'
                '<span class="model-failed">{}</span>',
                "Cancelled" if cancelled else version.get_status_display(),
                version.error,
            )
        if version.stage:
            return format_html(
                "{}<br><span class='model-stage'>{}</span>",
                version.get_status_display(),
                training_progress.STAGE_LABELS.get(version.stage, version.stage),
            )
        return version.get_status_display()

    @admin.display(description="Checksum")
    def checksum(self, version: ModelVersion) -> str:
        state = model_room.checksum_state(version)
        return format_html(
            '<span class="checksum checksum-{}">{}</span>',
            state,
            CHECKSUM_LABELS[state],
        )

    # --- pages -------------------------------------------------------------------

    def get_urls(self):
        def view(function, methods=None):
            if methods is not None:
                function = require_http_methods(methods)(function)
            return self.admin_site.admin_view(function)

        return [
            path(
                "train/",
                view(self.train_now, ["GET", "POST"]),
                name="recommendations_modelversion_train",
            ),
            path(
                "preview-home/",
                self.admin_site.admin_view(preview_home),
                name="recommendations_preview_home",
            ),
            path(
                "diff/",
                view(self.diff_view, ["GET"]),
                name="recommendations_modelversion_diff",
            ),
            path(
                "live/",
                view(self.live_view, ["GET"]),
                name="recommendations_modelversion_live",
            ),
            path(
                "queued/cancel/",
                view(self.cancel_queued_view, ["POST"]),
                name="recommendations_modelversion_cancel_queued",
            ),
            path(
                "<path:object_id>/progress/",
                view(self.progress_view, ["GET"]),
                name="recommendations_modelversion_progress",
            ),
            path(
                "<path:object_id>/cancel/",
                view(self.cancel_view, ["POST"]),
                name="recommendations_modelversion_cancel",
            ),
            *super().get_urls(),
        ]

    def _live_context(self, request: HttpRequest) -> dict:
        """The training under way (or asked for and waiting), for the
        changelist's live panel; one whose worker died is marked so first."""
        training.trainings_reap()
        running = training_progress.running_training()
        return {
            "status": training_progress.training_status(running) if running else None,
            "queued": None if running else training_progress.training_queued(),
            "can_cancel": self.has_change_permission(request),
            "live_url": reverse("admin:recommendations_modelversion_live"),
            "page_url": reverse("admin:recommendations_modelversion_changelist"),
        }

    def changelist_view(self, request, extra_context=None):
        if request.method == "GET" and training.automatic_training_stopped():
            self.message_user(
                request,
                f"The last {training.DEATHS_BEFORE_GIVING_UP} trainings stopped "
                "with their worker (out of memory?), so none starts by itself. "
                "Train now tries again.",
                messages.WARNING,
            )
        versions = model_room.chart_versions()
        extra_context = {
            **(extra_context or {}),
            **self._live_context(request),
            "chart_versions": versions,
            "chart_panels": model_room.chart_panels(versions),
            "chart_rows": model_room.chart_rows(versions),
            "chart_metrics": model_room.METRICS,
            "panel_w": model_room.PANEL_W,
            "panel_h": model_room.PANEL_H,
        }
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        version = self.get_object(request, object_id)
        if version is not None:
            extra_context = {
                **(extra_context or {}),
                "status": training_progress.training_status(version),
                "can_cancel": self.has_change_permission(request, version),
                "live_url": reverse(
                    "admin:recommendations_modelversion_progress", args=[version.pk]
                ),
                "page_url": request.path,
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def _live_fragment(self, request: HttpRequest, context: dict) -> HttpResponse:
        """The polled panel; once the training has ended the page reloads
        (``HX-Refresh``) to show the version as it ended up."""
        status = context.get("status")
        response = TemplateResponse(
            request, "admin/recommendations/modelversion/_training_live.html", context
        )
        if not (status and status.running) and not context.get("queued"):
            response.headers["HX-Refresh"] = "true"
        return response

    def live_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        if not request.htmx:
            return HttpResponseRedirect(
                reverse("admin:recommendations_modelversion_changelist")
            )
        return self._live_fragment(request, self._live_context(request))

    def _version_or_404(self, request: HttpRequest, object_id: str) -> ModelVersion:
        version_id = parse_id(object_id)
        version = self.get_object(request, str(version_id)) if version_id else None
        if version is None:
            raise Http404("No such model version.")
        return version

    def progress_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        training.trainings_reap()
        version = self._version_or_404(request, object_id)
        if not self.has_view_permission(request, version):
            raise PermissionDenied
        change_url = reverse(
            "admin:recommendations_modelversion_change", args=[version.pk]
        )
        if not request.htmx:
            return HttpResponseRedirect(change_url)
        return self._live_fragment(
            request,
            {
                "status": training_progress.training_status(version),
                "can_cancel": self.has_change_permission(request, version),
                "live_url": request.path,
                "page_url": change_url,
            },
        )

    def cancel_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        version = self._version_or_404(request, object_id)
        if not self.has_change_permission(request, version):
            raise PermissionDenied
        if training_progress.training_cancel(version=version):
            self.log_change(request, version, "Asked the training to stop (Cancel).")
            self.message_user(
                request,
                f"Training #{version.pk} stops as its next stage begins; "
                "the active version keeps serving.",
            )
        else:
            self.message_user(
                request,
                f"Version #{version.pk} is not training (it ended, or Cancel "
                "was already asked).",
                messages.WARNING,
            )
        return HttpResponseRedirect(_back(request, version))

    def cancel_queued_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_change_permission(request):
            raise PermissionDenied
        if training_progress.training_queued_cancel():
            _log_without_object(request, "Cancelled the training asked for.")
            self.message_user(request, "The training asked for will not start.")
        else:
            self.message_user(
                request,
                "No training was waiting (it may have started: cancel it below).",
                messages.WARNING,
            )
        return HttpResponseRedirect(
            reverse("admin:recommendations_modelversion_changelist")
        )

    def diff_view(self, request: HttpRequest) -> HttpResponse:
        ids = [parse_id(request.GET.get(key)) for key in ("a", "b")]
        if None in ids or ids[0] == ids[1]:
            return self._bad_request(
                request, "Choose two different versions to compare (?a=&b=)."
            )
        found = {v.pk: v for v in model_room.versions_for_diff(*ids)}
        if len(found) != 2:
            raise Http404("No such model version.")
        a, b = found[ids[0]], found[ids[1]]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Version #{a.pk} and #{b.pk} compared",
            "a": a,
            "b": b,
            "sections": model_room.versions_diff(a, b),
        }
        return TemplateResponse(
            request, "admin/recommendations/modelversion/diff.html", context
        )

    def _bad_request(self, request: HttpRequest, problem: str) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Cannot compare",
            "problem": problem,
        }
        return TemplateResponse(
            request,
            "admin/recommendations/modelversion/bad_request.html",
            context,
            status=400,
        )

    # --- actions, each asked why -------------------------------------------------

    def _reason(self, request: HttpRequest, **asked) -> str | TemplateResponse:
        return asked_why(
            request,
            self,
            back=reverse("admin:recommendations_modelversion_changelist"),
            **asked,
        )

    def _one(self, request, queryset, verb: str) -> ModelVersion | None:
        if queryset.count() != 1:
            self.message_user(
                request, f"Choose exactly one version to {verb}.", messages.ERROR
            )
            return None
        return queryset.get()

    def _action_fields(self, action: str, version: ModelVersion) -> list:
        """What the confirmation page posts back to run the action again."""
        return [("action", action), (helpers.ACTION_CHECKBOX_NAME, version.pk)]

    @admin.action(description="Promote (metrics gate applies)", permissions=["change"])
    def promote(self, request, queryset):
        version = self._one(request, queryset, "promote")
        if version is None:
            return None
        reason = self._reason(
            request,
            title=f"Promote version #{version.pk}?",
            summary=(
                f"Version #{version.pk} becomes the active model if its metrics "
                "pass the gate against the active one; every profile's "
                "candidates are then refreshed."
            ),
            confirm=f"Yes, promote #{version.pk}",
            hidden=self._action_fields("promote", version),
        )
        if not isinstance(reason, str):
            return reason
        try:
            version = training.model_promote(version=version)
        except training.PromotionRefused as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return None
        self.log_change(request, version, f"Promoted. Why: {reason}")
        self.message_user(request, f"Version #{version.pk} is now active.")
        return None

    @admin.action(
        description="Roll back to this version (no metrics gate)",
        permissions=["change"],
    )
    def rollback(self, request, queryset):
        version = self._one(request, queryset, "roll back to")
        if version is None:
            return None
        reason = self._reason(
            request,
            title=f"Roll back to version #{version.pk}?",
            summary=(
                f"Version #{version.pk} becomes the active model again, without "
                "the metrics gate; the active one is retired and every "
                "profile's candidates are refreshed."
            ),
            confirm=f"Yes, roll back to #{version.pk}",
            hidden=self._action_fields("rollback", version),
        )
        if not isinstance(reason, str):
            return reason
        try:
            version = training.model_rollback(to=version)
        except training.PromotionRefused as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return None
        self.log_change(request, version, f"Rolled back to this version. Why: {reason}")
        self.message_user(request, f"Rolled back: version #{version.pk} is active.")
        return None

    @admin.action(description="Compare two versions")
    def compare(self, request, queryset):
        ids = sorted(queryset.values_list("pk", flat=True)[:3])
        if len(ids) != 2:
            self.message_user(request, "Choose exactly two versions.", messages.ERROR)
            return None
        url = reverse("admin:recommendations_modelversion_diff")
        return HttpResponseRedirect(f"{url}?{urlencode({'a': ids[0], 'b': ids[1]})}")

    def train_now(self, request: HttpRequest) -> HttpResponse:
        if not self.has_change_permission(request):
            raise PermissionDenied
        reason = self._reason(
            request,
            title="Train a new version now?",
            summary=(
                "A worker trains a new version on the data as it is now; it "
                "becomes active if its metrics pass the gate. You can watch "
                "it, and cancel it, from the list of versions."
            ),
            confirm="Yes, train now",
            hidden=[],
        )
        if not isinstance(reason, str):
            return reason
        if training.training_ask():
            _log_without_object(request, f"Train now. Why: {reason}")
            self.message_user(
                request, "Training queued; the new version appears here when it ends."
            )
        else:
            self.message_user(
                request,
                "A training is running; its version appears here when it ends.",
                messages.WARNING,
            )
        return HttpResponseRedirect(
            reverse("admin:recommendations_modelversion_changelist")
        )


def _seconds(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"


def _back(request: HttpRequest, version: ModelVersion) -> str:
    """Where a Cancel returns: the page it was pressed on (this site's only)."""
    url = request.POST.get("next", "")
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return reverse("admin:recommendations_modelversion_change", args=[version.pk])


def _log_without_object(request: HttpRequest, message: str) -> None:
    """An admin log entry about model versions in general (Train now, before
    its version exists)."""
    LogEntry.objects.create(
        user_id=request.user.pk,
        content_type_id=ContentType.objects.get_for_model(ModelVersion).pk,
        object_id=None,
        object_repr="Model versions",
        action_flag=CHANGE,
        change_message=message,
    )


@admin.register(TuningRun)
class TuningRunAdmin(admin.ModelAdmin):
    list_display = ["id", "algorithm", "best_rmse", "best_params", "created_at"]
    readonly_fields = [f.name for f in TuningRun._meta.fields]


@admin.register(ProfileCandidates)
class ProfileCandidatesAdmin(admin.ModelAdmin):
    list_display = ["profile", "model_version", "updated_at"]
    raw_id_fields = ["profile"]
    readonly_fields = [
        "profile",
        "model_version",
        "title_ids",
        "scores",
        "predicted",
        "updated_at",
    ]


class PreviewHomeForm(forms.Form):
    """The tastes of an imaginary new profile, for "Preview home as…"."""

    genres = forms.ModelMultipleChoiceField(
        queryset=Genre.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Genres it loves (its picks are drawn from their best-known titles).",
    )
    titles = forms.ModelMultipleChoiceField(
        queryset=Title.objects.available().order_by("sort_title"),
        required=False,
        widget=AutocompleteSelectMultiple(
            CollectionItem._meta.get_field("title"), admin.site
        ),
        help_text="Titles it picked in onboarding.",
    )
    kids = forms.BooleanField(required=False, label="Kids profile")

    def clean(self):
        data = super().clean()
        if not data.get("genres") and not data.get("titles"):
            raise forms.ValidationError("Choose at least one genre or title.")
        return data


def preview_home(request: HttpRequest) -> TemplateResponse:
    """Staff see the rows a new profile with chosen tastes would get.

    Never another person's profile: the tastes are folded into an imaginary
    profile that is not saved.
    """
    form = PreviewHomeForm(request.GET or None)
    page = None
    if form.is_valid():
        page = home_for_tastes(
            genre_ids=[g.pk for g in form.cleaned_data["genres"]],
            title_ids=[t.pk for t in form.cleaned_data["titles"]],
            kids=form.cleaned_data["kids"],
        )
    context = {
        **admin.site.each_context(request),
        "title": "Preview home as…",
        "form": form,
        "media": form.media,
        "page": page,
    }
    return TemplateResponse(request, "admin/recommendations/preview_home.html", context)


# Registers the admins of the offline comparison, the online tests and the
# recommendation health page (modules of their own: each is one feature's forms and pages).
from recommendations import (  # noqa: E402, F401
    comparison_admin,
    experiment_admin,
    health_admin,
)
