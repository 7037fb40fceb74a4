from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from recommendations import services, tasks
from recommendations.models import ModelVersion, ProfileCandidates, TuningRun


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "algorithm",
        "status",
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

    def get_urls(self):
        train = self.admin_site.admin_view(require_POST(self.train_now))
        return [
            path("train/", train, name="recommendations_modelversion_train"),
            *super().get_urls(),
        ]

    def train_now(self, request: HttpRequest) -> HttpResponseRedirect:
        tasks.enqueue(tasks.train_model)
        self.message_user(
            request, "Training queued; the new version appears here when it ends."
        )
        return HttpResponseRedirect(
            reverse("admin:recommendations_modelversion_changelist")
        )

    def _activate(self, request, queryset, force: bool) -> None:
        if queryset.count() != 1:
            self.message_user(request, "Choose exactly one version.", messages.ERROR)
            return
        try:
            version = services.model_promote(version=queryset.get(), force=force)
        except services.PromotionRefused as exc:
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
