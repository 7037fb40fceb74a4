from django.contrib import admin

from outbox.models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """What background work is still to run: read-only (the relay sends it)."""

    list_display = [
        "id",
        "task",
        "args",
        "created_at",
        "sent_at",
        "started_at",
        "attempts",
        "relay_after",
    ]
    list_filter = ["task"]
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
