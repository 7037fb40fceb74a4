"""Read-only views of the privacy app's rows for operators.

Settings are changed by their owner only, in the privacy centre (so each
change is logged); the consent log is append-only; exports and erasure
receipts are written by their services. So the admin shows, and never
adds, changes or deletes.
"""

from django.contrib import admin

from accounts.admin import UserAdmin
from accounts.models import User
from consent.models import PrivacySettings
from privacy import services
from privacy.models import ConsentEvent, DataExport, ErasureReceipt


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PrivacySettings)
class PrivacySettingsAdmin(ReadOnlyAdmin):
    list_display = ["profile", *PrivacySettings.CHOICE_FIELDS, "updated_at"]
    list_filter = [
        "personalization",
        "pause_viewing_history",
        "pause_search_history",
        "contextual_signals",
        "retention_months",
    ]
    list_select_related = ["profile"]
    search_fields = ["profile__user__email", "profile__name"]


@admin.register(ConsentEvent)
class ConsentEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user", "profile_name", "kind", "what", "change"]
    list_filter = ["kind"]
    list_select_related = ["user"]
    search_fields = ["user__email", "what"]
    date_hierarchy = "created_at"

    @admin.display(description="old → new")
    def change(self, event: ConsentEvent) -> str:
        return f"{event.old_value} → {event.new_value}"


@admin.register(DataExport)
class DataExportAdmin(ReadOnlyAdmin):
    list_display = ["pk", "user", "status", "progress", "size", "created_at"]
    list_filter = ["status"]
    list_select_related = ["user"]
    search_fields = ["user__email"]
    exclude = ["file"]


@admin.register(ErasureReceipt)
class ErasureReceiptAdmin(ReadOnlyAdmin):
    list_display = ["reference", "created_at", "scope"]
    list_filter = ["scope"]
    search_fields = ["reference"]


class ErasingUserAdmin(UserAdmin):
    """Deleting an account in the admin is its erasure (model files, exports,
    consent log), as it is in the privacy centre. Registered here, over the
    accounts app's admin, because accounts sits below the privacy centre."""

    def delete_model(self, request, obj: User) -> None:
        services.erase_account(user=obj)

    def delete_queryset(self, request, queryset) -> None:
        for user in queryset:
            self.delete_model(request, user)


admin.site.unregister(User)
admin.site.register(User, ErasingUserAdmin)
