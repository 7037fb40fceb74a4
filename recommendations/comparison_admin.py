"""The admin's offline comparison: choose two configurations, watch the run,
read the verdict, promote the winner.

The configuration form is built from ``TrainingConfig``'s dataclass fields,
so a field added to the engine's configuration appears here on its own (a
number as a number box, a dict as JSON), beside the re-ranker's exploration.
"""

import json

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from recommendations.engine.comparison import (
    EXPLORATION_POOL,
    Arm,
    ConfigField,
    config_fields,
    config_problems,
)
from recommendations.engine.experiment import TrainingConfig
from recommendations.engine.rating import ALGORITHMS
from recommendations.models import ModelComparison
from recommendations.services import comparison as comparisons

#: Shown in the metric table, in this order; others follow as named.
METRIC_LABELS = {
    "ndcg@10": "NDCG@10",
    "recall@10": "Recall@10",
    "precision@10": "Precision@10",
    "map@10": "MAP@10",
    "coverage": "Catalog coverage",
    "novelty": "Novelty (bits)",
    "diversity": "Intra-list diversity",
    "popularity_percentile@10": "Popularity percentile",
    "gini@10": "Gini of exposure",
    "long_tail_share@10": "Long-tail share",
    "effective_catalog_size@10": "Effective catalog size",
    "rmse": "RMSE",
    "mae": "MAE",
}
GROUPS = {
    "accuracy": "Accuracy (mean over profiles; 95 % paired bootstrap interval)",
    "catalog": "Catalog and exposure (difference only)",
    "rating": "Rating errors (difference only)",
}


def _config_field(field: ConfigField) -> forms.Field:
    label = field.name.replace("_", " ").capitalize()
    required = not field.optional
    if field.name == "algorithm":
        return forms.ChoiceField(
            label="Rating algorithm", choices=[(a, a) for a in ALGORITHMS]
        )
    if field.kind is bool:
        return forms.BooleanField(label=label, required=False, help_text=field.help)
    if field.kind is int:
        return forms.IntegerField(label=label, required=required, help_text=field.help)
    if field.kind is float:
        help_text = field.help or ("Empty: off." if field.optional else "")
        return forms.FloatField(label=label, required=required, help_text=help_text)
    if field.kind in (dict, list):
        return forms.JSONField(
            label=label,
            required=False,
            widget=forms.Textarea(attrs={"rows": 3, "cols": 40}),
            help_text=field.help or "JSON, e.g. Surprise's parameters.",
        )
    return forms.CharField(label=label, required=required, help_text=field.help)


class ArmForm(forms.Form):
    """One side: its label, every TrainingConfig field, and exploration."""

    label = forms.CharField(max_length=80)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for field in config_fields():
            self.fields[field.name] = _config_field(field)
        self.fields["exploration"] = forms.IntegerField(
            min_value=0,
            max_value=100,
            help_text=f"0–100, as the privacy centre's slider: each profile's "
            f"{EXPLORATION_POOL} best candidates re-ranked for variety (MMR).",
        )

    def clean(self) -> dict:
        data = super().clean()
        if self.errors:
            return data
        for field in config_fields():
            if field.kind is dict:
                value = data.get(field.name)
                if value in (None, ""):
                    data[field.name] = {}
                elif not isinstance(value, dict):
                    self.add_error(
                        field.name, 'Must be a JSON object: {"name": value}.'
                    )
        if self.errors:
            return data
        config = TrainingConfig(**{f.name: data[f.name] for f in config_fields()})
        for name, problem in config_problems(config).items():
            self.add_error(name if name in self.fields else None, problem)
        data["arm"] = Arm(
            label=data["label"], config=config, exploration=data["exploration"]
        )
        return data


def _initial(label: str, config: TrainingConfig, exploration: int = 0) -> dict:
    # A JSONField shows its initial value as JSON itself.
    return {"label": label, **config.as_dict(), "exploration": exploration}


def _signed(value: float | None, places: int = 4) -> str:
    return "—" if value is None else f"{value:+.{places}f}"


def _plain(value: float | None, places: int = 4) -> str:
    return "—" if value is None else f"{value:.{places}f}"


def _duration(comparison: ModelComparison) -> str:
    if not (comparison.started_at and comparison.finished_at):
        return ""
    seconds = round((comparison.finished_at - comparison.started_at).total_seconds())
    return f"{seconds} s" if seconds < 120 else f"{seconds // 60} min {seconds % 60} s"


def metric_rows(results: dict) -> list[dict]:
    """The results' metrics as table rows, grouped, with the better side named.

    A side is named better on an accuracy metric only when its interval
    leaves out 0; on the others, by the point difference ("no interval").
    """
    order = {name: n for n, name in enumerate(METRIC_LABELS)}
    rows = sorted(
        results.get("metrics", []),
        key=lambda m: (list(GROUPS).index(m["group"]), order.get(m["name"], 99)),
    )
    out, group = [], None
    for m in rows:
        d = m["difference"]
        sign = 0 if not d else (1 if d > 0 else -1)
        if m["lower_is_better"]:
            sign = -sign
        better = {1: "B", -1: "A", 0: "—"}[sign]
        certain = m["low"] is not None
        if certain and m["low"] <= 0 <= m["high"]:
            better = "no clear difference" if d else "—"
        out.append(
            {
                "group": GROUPS[m["group"]] if m["group"] != group else None,
                "label": METRIC_LABELS.get(m["name"], m["name"]),
                "a": _plain(m["a"]),
                "b": _plain(m["b"]),
                "difference": _signed(d),
                "interval": (
                    f"[{_signed(m['low'])}, {_signed(m['high'])}]" if certain else ""
                ),
                "better": better,
                "certain": certain,
                "lower_is_better": m["lower_is_better"],
            }
        )
        group = m["group"]
    return out


def _settings_text(chosen: dict | str) -> str:
    if isinstance(chosen, str):
        return chosen
    return ", ".join(f"{name} {value}" for name, value in chosen.items())


def config_rows(comparison: ModelComparison) -> list[dict]:
    """Both sides' settings, field by field; rows that differ are marked."""
    a = Arm.from_dict(comparison.config_a)
    b = Arm.from_dict(comparison.config_b)
    rows = []
    for name in (f.name for f in config_fields()):
        va, vb = getattr(a.config, name), getattr(b.config, name)
        rows.append(
            {
                "name": name.replace("_", " ").capitalize(),
                "a": json.dumps(va) if isinstance(va, dict) else va,
                "b": json.dumps(vb) if isinstance(vb, dict) else vb,
                "differs": va != vb,
            }
        )
    validation = comparison.results.get("validation", {})
    if validation:
        chosen = [
            validation.get(side, {}).get("chosen") or "off (as configured)"
            for side in "ab"
        ]
        rows.append(
            {
                "name": "Chosen on validation",
                "a": _settings_text(chosen[0]),
                "b": _settings_text(chosen[1]),
                "differs": chosen[0] != chosen[1],
            }
        )
    rows.append(
        {
            "name": "Exploration (re-ranker)",
            "a": a.exploration,
            "b": b.exploration,
            "differs": a.exploration != b.exploration,
        }
    )
    return rows


class PromoteForm(forms.Form):
    side = forms.ChoiceField(
        choices=ModelComparison.Side.choices, widget=forms.RadioSelect
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        max_length=1000,
        help_text="Written to the admin log with your name.",
    )


@admin.register(ModelComparison)
class ModelComparisonAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "sides",
        "status",
        "verdict_shown",
        "created_by",
        "created_at",
        "promoted",
    ]
    list_filter = ["status"]
    readonly_fields = [f.name for f in ModelComparison._meta.fields]

    @admin.display(description="A vs B")
    def sides(self, comparison: ModelComparison) -> str:
        return f"{comparison.label_a} vs {comparison.label_b}"

    @admin.display(description="Verdict")
    def verdict_shown(self, comparison: ModelComparison) -> str:
        return comparison.verdict or comparison.error[:120]

    @admin.display(description="Promoted")
    def promoted(self, comparison: ModelComparison) -> str:
        version = comparison.promoted_version
        if version is None:
            return comparison.get_promotion_display() if comparison.promotion else ""
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:recommendations_modelversion_change", args=[version.pk]),
            version,
        )

    def get_urls(self):
        promote = self.admin_site.admin_view(require_POST(self.promote_view))
        return [
            path(
                "<int:pk>/promote/",
                promote,
                name="recommendations_modelcomparison_promote",
            ),
            *super().get_urls(),
        ]

    def add_view(self, request: HttpRequest, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            return HttpResponse(status=403)
        if request.method == "POST":
            form_a = ArmForm(request.POST, prefix="a")
            form_b = ArmForm(request.POST, prefix="b")
            if form_a.is_valid() and form_b.is_valid():
                comparison = comparisons.comparison_create(
                    created_by=request.user,
                    arm_a=form_a.cleaned_data["arm"],
                    arm_b=form_b.cleaned_data["arm"],
                )
                self.log_addition(
                    request,
                    comparison,
                    f"Compare {comparison.label_a} vs {comparison.label_b}",
                )
                return HttpResponseRedirect(
                    reverse(
                        "admin:recommendations_modelcomparison_change",
                        args=[comparison.pk],
                    )
                )
            status = 400
        else:
            live = comparisons.live_configuration()
            form_a = ArmForm(prefix="a", initial=_initial("Live", live))
            form_b = ArmForm(prefix="b", initial=_initial("Candidate", live))
            status = 200
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Compare two configurations",
            "forms": [("A", form_a), ("B", form_b)],
            "has_errors": status == 400,
        }
        return TemplateResponse(
            request,
            "admin/recommendations/modelcomparison/compare.html",
            context,
            status=status,
        )

    def change_view(
        self, request: HttpRequest, object_id, form_url="", extra_context=None
    ):
        comparison = get_object_or_404(ModelComparison, pk=object_id)
        if not self.has_view_or_change_permission(request, comparison):
            return HttpResponse(status=403)
        return self._result(request, comparison)

    def _result(
        self,
        request: HttpRequest,
        comparison: ModelComparison,
        promote_form: PromoteForm | None = None,
        status: int = 200,
    ) -> TemplateResponse:
        winner = comparison.winner or comparison.results.get("leader")
        if promote_form is None:
            promote_form = PromoteForm(initial={"side": winner or "b"})
        busy = comparison.status in (
            ModelComparison.Status.QUEUED,
            ModelComparison.Status.RUNNING,
        ) or comparison.promotion in (
            ModelComparison.Promotion.QUEUED,
            ModelComparison.Promotion.TRAINING,
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Offline comparison #{comparison.pk}",
            "comparison": comparison,
            "results": comparison.results,
            "metric_rows": metric_rows(comparison.results),
            "config_rows": config_rows(comparison),
            "promote_form": promote_form,
            "can_promote": comparison.status == ModelComparison.Status.DONE
            and comparison.promotion
            in (ModelComparison.Promotion.NONE, ModelComparison.Promotion.FAILED),
            "winner": comparison.winner,
            "winner_label": comparison.label_of(winner) if winner else "",
            "busy": busy,
            "duration": _duration(comparison),
        }
        template = "admin/recommendations/modelcomparison/result.html"
        if request.htmx:
            template += "#result"
        response = TemplateResponse(request, template, context, status=status)
        response["Vary"] = "HX-Request"
        return response

    def promote_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        comparison = get_object_or_404(ModelComparison, pk=pk)
        if not self.has_change_permission(request, comparison):
            return HttpResponse(status=403)
        form = PromoteForm(request.POST)
        if not form.is_valid():
            return self._result(request, comparison, form, status=400)
        side, reason = form.cleaned_data["side"], form.cleaned_data["reason"]
        try:
            comparison = comparisons.comparison_promote(
                comparison_id=comparison.pk,
                side=side,
                promoted_by=request.user,
                reason=reason,
            )
        except comparisons.ComparisonError as exc:
            form.add_error(None, str(exc))
            return self._result(request, comparison, form, status=409)
        label = comparison.label_of(side)
        self.log_change(
            request,
            comparison,
            f"Promoted side {side.upper()} ({label}) to train for real. Why: {reason}",
        )
        self.message_user(
            request,
            f"Training {label} for real; its version appears here when it ends.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(
            reverse("admin:recommendations_modelcomparison_change", args=[pk])
        )
