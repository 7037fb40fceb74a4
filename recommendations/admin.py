from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelectMultiple
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from catalog.models import CollectionItem, Genre, Title
from recommendations.home.page import home_for_tastes
from recommendations.models import ModelVersion, ProfileCandidates, TuningRun
from recommendations.services import training


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "algorithm",
        "status_and_reason",
        "ndcg",
        "rmse",
        "created_at",
        "activated_at",
    ]
    list_filter = ["status", "algorithm"]
    readonly_fields = [f.name for f in ModelVersion._meta.fields]
    actions = ["promote", "activate_without_gate"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="Status", ordering="status")
    def status_and_reason(self, version: ModelVersion) -> str:
        """A failed version stands out, with why (a refused file, a dead worker)."""
        if version.status == ModelVersion.Status.FAILED:
            return format_html(
                '<strong class="model-failed">{}</strong><br>'
                '<span class="model-failed">{}</span>',
                version.get_status_display(),
                version.error,
            )
        return version.get_status_display()

    def get_urls(self):
        train = self.admin_site.admin_view(require_POST(self.train_now))
        preview = self.admin_site.admin_view(preview_home)
        return [
            path("train/", train, name="recommendations_modelversion_train"),
            path("preview-home/", preview, name="recommendations_preview_home"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        if request.method == "GET" and training.automatic_training_stopped():
            self.message_user(
                request,
                f"The last {training.DEATHS_BEFORE_GIVING_UP} trainings stopped "
                "with their worker (out of memory?), so none starts by itself. "
                "Train now tries again.",
                messages.WARNING,
            )
        return super().changelist_view(request, extra_context)

    def train_now(self, request: HttpRequest) -> HttpResponseRedirect:
        if training.training_ask():
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

    def _activate(self, request, queryset, force: bool) -> None:
        if queryset.count() != 1:
            self.message_user(request, "Choose exactly one version.", messages.ERROR)
            return
        try:
            version = training.model_promote(version=queryset.get(), force=force)
        except training.PromotionRefused as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        self.message_user(request, f"Version #{version.pk} is now active.")

    @admin.action(description="Promote (metrics gate applies)")
    def promote(self, request, queryset) -> None:
        self._activate(request, queryset, force=False)

    @admin.action(description="Activate without the gate (rollback)")
    def activate_without_gate(self, request, queryset) -> None:
        self._activate(request, queryset, force=True)


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
