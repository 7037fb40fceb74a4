"""The admin's online tests: define a test and its arms, start and stop it,
read its evidence as it accumulates, promote the winning arm.

Arms are edited inline; each arm's configuration is checked by the serving
code's own rule (``services.experiments.arm_config_errors``), so what the
form accepts is what pages can serve. Once a test has started its arms, kind,
traffic and kids rule are read-only: the assignment hash depends on them.
Start, Stop and Promote each ask why on a confirmation page; the services
(``services.experiment_admin``) write the change and the admin log entry
together.
"""

import math

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.cache import patch_vary_headers
from django.utils.html import format_html
from django.utils.timezone import localtime
from django.views.decorators.http import require_http_methods, require_POST

from config.links import parse_id
from recommendations.admin import asked_why
from recommendations.models import Experiment, ExperimentArm
from recommendations.services import experiment_admin as services
from recommendations.services.experiment_analysis import (
    GUARDRAILS_SECONDS,
    PAGE_VIEW_SAMPLE,
    PROFILE_SAMPLE,
    Analysis,
    experiment_analysis,
)
from recommendations.services.experiments import (
    arm_config_errors,
    config_words,
    experiments_changed,
    running_experiments,
    serving_defaults,
)
from recommendations.services.guardrails import guardrails

CONFIG_HELP = (
    'JSON: {"model_version": 12}, {"exploration": 30}, {"calibration": true}, '
    '{"row_order": ["trending", "top-picks"]}; {} is what everyone gets.'
)


def _known(x: float | None) -> bool:
    return x is not None and math.isfinite(x)


def _percent(x: float | None, places: int = 2) -> str:
    return f"{x * 100:.{places}f} %" if _known(x) else "—"


def _interval(low: float, high: float, signed: bool = False, places: int = 2) -> str:
    if not (_known(low) and _known(high)):
        return ""
    if signed:
        return f"[{low * 100:+.{places}f}, {high * 100:+.{places}f}] pts"
    return f"[{low * 100:.{places}f} %, {high * 100:.{places}f} %]"


def _p(p: float) -> str:
    if not _known(p):
        return ""
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _figure(x: float | None, places: int) -> str:
    return f"{x:.{places}f}" if _known(x) else "—"


def evidence_rows(analysis: Analysis) -> list[dict]:
    """Each arm's evidence as the table shows it."""
    rows = []
    for arm in analysis.arms:
        d = arm.difference
        rows.append(
            {
                "key": arm.key,
                "name": arm.name,
                "control": arm.control,
                "changes": arm.changes,
                "profiles": f"{arm.profiles:,}",
                "sessions": f"{arm.sessions:,}",
                "impressions": f"{arm.impressions:,}",
                "takes": f"{arm.takes:,}",
                "rate": _percent(arm.rate.value),
                "rate_interval": _interval(arm.rate.low, arm.rate.high),
                "difference": f"{d.diff * 100:+.2f} pts"
                if d and _known(d.diff)
                else "",
                "difference_interval": _interval(d.low, d.high, signed=True)
                if d
                else "",
                "p": _p(d.p_value) if d else "",
                "verdict": arm.verdict.text if arm.verdict else "",
                "wins": bool(arm.verdict and arm.verdict.winner),
            }
        )
    return rows


def interleaving_rows(analysis: Analysis) -> dict | None:
    """The interleaving preference as the page shows it."""
    found = analysis.interleaving
    if found is None:
        return None
    pref = found.preference
    return {
        "share_b": _percent(pref.share_b, 1),
        "interval": _interval(pref.low, pref.high, places=1),
        "p": _p(pref.p_value),
        "sessions": f"{found.sessions:,}",
        "decided": f"{found.wins_a + found.wins_b:,}",
        "ties": f"{pref.ties:,}",
        "credits": [
            (found.key_a, f"{found.credits_a:,}", f"{found.wins_a:,}"),
            (found.key_b, f"{found.credits_b:,}", f"{found.wins_b:,}"),
        ],
        "key_a": found.key_a,
        "key_b": found.key_b,
    }


def guardrail_rows(analysis: Analysis) -> list[dict]:
    return [
        {
            "key": g.key,
            "name": g.name,
            "page_views": f"{g.page_views:,}",
            "titles_shown": f"{g.titles_shown:,}",
            "coverage": _percent(g.coverage, 1),
            "popularity": _figure(g.popularity, 1),
            "diversity": _figure(g.diversity, 3),
            "calibration": _figure(g.calibration, 3),
            "profiles_sampled": f"{g.profiles_sampled:,}",
            "flagged": bool(g.flags),
        }
        for g in analysis.guardrails
    ]


class ExperimentForm(forms.ModelForm):
    class Meta:
        model = Experiment
        fields = ["name", "hypothesis", "kind", "traffic_share", "include_kids"]

    def clean_traffic_share(self) -> float:
        share = self.cleaned_data["traffic_share"]
        if share is not None and not 0 < share <= 1:
            raise ValidationError(
                "A share of eligible profiles: more than 0, at most 1 (0.1 = 10 %)."
            )
        return share


class ArmForm(forms.ModelForm):
    config = forms.JSONField(
        required=False,
        initial=dict,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 44}),
        help_text=CONFIG_HELP,
    )

    class Meta:
        model = ExperimentArm
        fields = ["key", "name", "weight", "config"]
        widgets = {"key": forms.TextInput(attrs={"size": 3})}

    def clean_key(self) -> str:
        key = self.cleaned_data["key"].strip().upper()
        if not key.isalnum():
            raise ValidationError("A letter or two: A, B, C…")
        return key

    def clean_weight(self) -> int:
        weight = self.cleaned_data["weight"]
        if weight is not None and weight < 1:
            raise ValidationError("At least 1 (the arms share traffic by weight).")
        return weight

    def clean_config(self) -> dict:
        config = self.cleaned_data.get("config")
        if config in (None, ""):
            return {}
        if not isinstance(config, dict):
            raise ValidationError('Must be a JSON object, e.g. {"exploration": 30}.')
        errors = arm_config_errors(config)
        if errors:
            raise ValidationError(errors)
        return config


class ArmFormSet(BaseInlineFormSet):
    """At least two arms, exactly two for an interleaving test."""

    def add_fields(self, form, index) -> None:
        """A table's cells have no label of their own: each input is named
        for a screen reader ("Arm 2: config")."""
        super().add_fields(form, index)
        row = "new arm" if index is None else f"Arm {index + 1}"
        for name, field in form.fields.items():
            label = "delete" if name == "DELETE" else str(field.label or name).lower()
            field.widget.attrs.setdefault("aria-label", f"{row}: {label}")

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        kept = [
            form
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and form.cleaned_data.get("key")
        ]
        if len(kept) < 2:
            raise ValidationError(
                "A test needs at least two arms: the first (by key) is the "
                "control, usually {} (what everyone gets)."
            )
        if self.instance.kind == Experiment.Kind.INTERLEAVING and len(kept) != 2:
            raise ValidationError(
                "An interleaving test has exactly two arms: their rankers are "
                "drawn into one Top picks row."
            )


class ArmInline(admin.TabularInline):
    model = ExperimentArm
    form = ArmForm
    formset = ArmFormSet
    extra = 0
    fields = ["key", "name", "weight", "config"]
    verbose_name = "arm"
    verbose_name_plural = "Arms (the first, by key, is the control)"

    def get_extra(self, request, obj=None, **kwargs) -> int:
        return 2 if obj is None else 0

    def _draft(self, obj) -> bool:
        return obj is None or obj.status == Experiment.Status.DRAFT

    def has_add_permission(self, request, obj=None) -> bool:
        return self._draft(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._draft(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._draft(obj) and super().has_delete_permission(request, obj)


@admin.register(Experiment)
class ExperimentAdmin(admin.ModelAdmin):
    form = ExperimentForm
    inlines = [ArmInline]
    list_display = [
        "name",
        "kind",
        "status_shown",
        "traffic",
        "started",
        "profiles_assigned",
        "analysis_link",
    ]
    list_filter = ["status", "kind"]
    search_fields = ["name", "hypothesis"]
    FIXED_ONCE_STARTED = ["kind", "traffic_share", "include_kids"]
    STATE = ["status", "started_at", "stopped_at", "winner"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(assigned=Count("assignments"))

    def get_fields(self, request, obj=None):
        fields = ["name", "hypothesis", "kind", "traffic_share", "include_kids"]
        return fields if obj is None else [*fields, *self.STATE]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        if obj.status == Experiment.Status.DRAFT:
            return self.STATE
        return [*self.FIXED_ONCE_STARTED, *self.STATE]

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.status == Experiment.Status.RUNNING:
            return False
        return super().has_delete_permission(request, obj)

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        transaction.on_commit(experiments_changed)

    def delete_model(self, request, obj) -> None:
        super().delete_model(request, obj)
        transaction.on_commit(experiments_changed)

    # --- columns -----------------------------------------------------------------

    @admin.display(description="Status", ordering="status")
    def status_shown(self, experiment: Experiment) -> str:
        if experiment.status == Experiment.Status.PROMOTED:
            return f"Promoted (arm {experiment.winner})"
        return experiment.get_status_display()

    @admin.display(description="Traffic", ordering="traffic_share")
    def traffic(self, experiment: Experiment) -> str:
        return f"{experiment.traffic_share:.0%}"

    @admin.display(description="Started", ordering="started_at")
    def started(self, experiment: Experiment) -> str:
        if experiment.started_at is None:
            return "—"
        return localtime(experiment.started_at).strftime("%Y-%m-%d %H:%M")

    @admin.display(description="Profiles assigned", ordering="assigned")
    def profiles_assigned(self, experiment: Experiment) -> str:
        return f"{experiment.assigned:,}"

    @admin.display(description="Evidence")
    def analysis_link(self, experiment: Experiment) -> str:
        return format_html(
            '<a href="{}">Analysis</a>',
            reverse("admin:recommendations_experiment_analysis", args=[experiment.pk]),
        )

    # --- pages -------------------------------------------------------------------

    def get_urls(self):
        def view(function, methods):
            return self.admin_site.admin_view(require_http_methods(methods)(function))

        return [
            path(
                "<path:object_id>/analysis/",
                view(self.analysis_view, ["GET", "HEAD"]),
                name="recommendations_experiment_analysis",
            ),
            path(
                "<path:object_id>/start/",
                view(self.start_view, ["GET", "POST"]),
                name="recommendations_experiment_start",
            ),
            path(
                "<path:object_id>/stop/",
                view(self.stop_view, ["GET", "POST"]),
                name="recommendations_experiment_stop",
            ),
            path(
                "<path:object_id>/promote/",
                self.admin_site.admin_view(require_POST(self.promote_view)),
                name="recommendations_experiment_promote",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        defaults = serving_defaults()
        said = config_words(
            {
                "exploration": defaults.exploration,
                "calibration": defaults.calibration,
                "row_order": list(defaults.row_order),
            }
        )
        extra_context = {
            **(extra_context or {}),
            "serving_defaults": said or "the built-in settings",
        }
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        experiment = self.get_object(request, object_id)
        if experiment is not None:
            extra_context = {
                **(extra_context or {}),
                "experiment": experiment,
                "can_run": self.has_change_permission(request, experiment),
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def _experiment_or_404(self, request: HttpRequest, object_id: str) -> Experiment:
        pk = parse_id(object_id)
        experiment = self.get_object(request, str(pk)) if pk else None
        if experiment is None:
            raise Http404("No such test.")
        return experiment

    def _change_url(self, experiment: Experiment) -> str:
        return reverse("admin:recommendations_experiment_change", args=[experiment.pk])

    def _analysis_url(self, experiment: Experiment) -> str:
        return reverse(
            "admin:recommendations_experiment_analysis", args=[experiment.pk]
        )

    def analysis_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        experiment = self._experiment_or_404(request, object_id)
        if not self.has_view_permission(request, experiment):
            raise PermissionDenied
        analysis = experiment_analysis(experiment)
        can_promote = self.has_change_permission(request, experiment) and (
            experiment.status in (Experiment.Status.RUNNING, Experiment.Status.STOPPED)
        )
        rails = guardrails()
        flagged = {g.key for g in analysis.guardrails if g.flags}
        context = {
            "flagged_winners": sorted(
                {v.winner for v in analysis.verdicts if v.winner in flagged}
            ),
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Test “{experiment}”",
            "experiment": experiment,
            "analysis": analysis,
            "interleaving": interleaving_rows(analysis),
            "evidence_rows": evidence_rows(analysis),
            # Three arms or more: a verdict per comparison, beside each arm.
            "several": len(analysis.arms) > 2,
            "guardrail_rows": guardrail_rows(analysis),
            "tolerances": {
                "coverage": f"{rails.coverage_drop:.0%}",
                "popularity": f"{rails.amplification_rise:g}",
            },
            "page_view_sample": PAGE_VIEW_SAMPLE,
            "guardrails_minutes": GUARDRAILS_SECONDS // 60,
            "profile_sample": PROFILE_SAMPLE,
            "promotable": [a for a in analysis.arms if not a.control],
            "can_promote": can_promote,
            "analysis_url": request.path,
            "traffic": f"{experiment.traffic_share:.0%}",
            "now": localtime(),
        }
        template = "admin/recommendations/experiment/analysis.html"
        if request.htmx:
            template += "#evidence"
        response = TemplateResponse(request, template, context)
        patch_vary_headers(response, ("HX-Request",))
        return response

    def _reason(
        self, request: HttpRequest, experiment: Experiment, **asked
    ) -> str | TemplateResponse:
        return asked_why(
            request,
            self,
            crumbs=[(self._change_url(experiment), str(experiment))],
            stylesheet="css/admin-experiments.css",
            **asked,
        )

    def _run(self, request, experiment, action, done: str) -> HttpResponseRedirect:
        try:
            action()
        except services.ExperimentRefused as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            self.message_user(request, done, messages.SUCCESS)
        return HttpResponseRedirect(self._change_url(experiment))

    def start_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        experiment = self._experiment_or_404(request, object_id)
        if not self.has_change_permission(request, experiment):
            raise PermissionDenied
        problems = []
        if experiment.status != Experiment.Status.DRAFT:
            problems = [f"“{experiment}” is not a draft."]
        else:
            problems = services.arms_problems(experiment, list(experiment.arms.all()))
        if problems:
            self.message_user(
                request, "Cannot start: " + " ".join(problems), messages.ERROR
            )
            return HttpResponseRedirect(self._change_url(experiment))
        arms = experiment.arms.count()
        others = [e.name for e in running_experiments()]
        overlap = (
            f" Also running: {', '.join(others)}. A profile is in one test at "
            "most (the earliest started admits it first), so this one gets the "
            "profiles those leave out."
            if others
            else ""
        )
        reason = self._reason(
            request,
            experiment,
            title=f"Start “{experiment}”?",
            summary=(
                f"{experiment.traffic_share:.0%} of eligible profiles are assigned "
                f"to one of its {arms} arms from their next page; its arms, kind "
                f"and traffic can no longer change.{overlap}"
            ),
            confirm="Yes, start the test",
            hidden=[],
            back=self._change_url(experiment),
        )
        if not isinstance(reason, str):
            return reason
        return self._run(
            request,
            experiment,
            lambda: services.experiment_start(
                experiment_id=experiment.pk, user=request.user, reason=reason
            ),
            f"“{experiment}” is running.",
        )

    def stop_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        experiment = self._experiment_or_404(request, object_id)
        if not self.has_change_permission(request, experiment):
            raise PermissionDenied
        if experiment.status != Experiment.Status.RUNNING:
            self.message_user(
                request, f"“{experiment}” is not running.", messages.ERROR
            )
            return HttpResponseRedirect(self._change_url(experiment))
        reason = self._reason(
            request,
            experiment,
            title=f"Stop “{experiment}”?",
            summary=(
                "Every profile in it gets what everyone gets from its next page; "
                "the evidence stays readable, and an arm can still be promoted."
            ),
            confirm="Yes, stop the test",
            hidden=[],
            back=self._change_url(experiment),
        )
        if not isinstance(reason, str):
            return reason
        return self._run(
            request,
            experiment,
            lambda: services.experiment_stop(
                experiment_id=experiment.pk, user=request.user, reason=reason
            ),
            f"“{experiment}” stopped.",
        )

    def promote_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        experiment = self._experiment_or_404(request, object_id)
        if not self.has_change_permission(request, experiment):
            raise PermissionDenied
        key = request.POST.get("arm", "")
        arm = experiment.arms.filter(key=key).first()
        if arm is None:
            self.message_user(
                request, f"“{experiment}” has no arm {key!r}.", messages.ERROR
            )
            return HttpResponseRedirect(self._analysis_url(experiment))
        changes = config_words(arm.config or {}) or (
            "nothing (it is what everyone gets)"
        )
        reason = self._reason(
            request,
            experiment,
            title=f"Promote arm {arm.key} of “{experiment}”?",
            summary=(
                f"Arm {arm.key} ({arm.name}) becomes what everyone gets: "
                f"{changes}. The test ends, and the public changelog says so."
            ),
            confirm=f"Yes, promote {arm.key}",
            hidden=[("arm", arm.key)],
            back=self._analysis_url(experiment),
        )
        if not isinstance(reason, str):
            return reason
        try:
            services.experiment_promote(
                experiment_id=experiment.pk,
                arm_key=arm.key,
                user=request.user,
                reason=reason,
            )
        except services.ExperimentRefused as exc:
            self.message_user(request, f"Not promoted: {exc}", messages.ERROR)
            return HttpResponseRedirect(self._analysis_url(experiment))
        self.message_user(
            request,
            f"Arm {arm.key} ({arm.name}) is now what everyone gets; "
            f"“{experiment}” has ended.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(self._analysis_url(experiment))
