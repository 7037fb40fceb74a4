from django.contrib import admin

from activity.models import (
    Feedback,
    ListItem,
    Rating,
    SearchEvent,
    TagApplication,
    ViewingEvent,
)


class ProfileActivityAdmin(admin.ModelAdmin):
    """Activity is personal data: read and delete only, with ids instead of pickers."""

    raw_id_fields = ["profile", "title"]
    list_select_related = ["profile", "title"]
    search_fields = ["profile__user__email"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Rating)
class RatingAdmin(ProfileActivityAdmin):
    list_display = ["profile", "title", "value", "updated_at"]
    list_filter = ["value"]


@admin.register(ViewingEvent)
class ViewingEventAdmin(ProfileActivityAdmin):
    list_display = [
        "profile",
        "title",
        "started_at",
        "progress",
        "device_class",
        "completed",
        "dismissed",
    ]
    list_filter = ["completed", "dismissed", "device_class"]


@admin.register(Feedback)
class FeedbackAdmin(ProfileActivityAdmin):
    list_display = ["profile", "title", "kind", "created_at"]
    list_filter = ["kind"]


@admin.register(ListItem)
class ListItemAdmin(ProfileActivityAdmin):
    list_display = ["profile", "title", "added_at"]


@admin.register(SearchEvent)
class SearchEventAdmin(ProfileActivityAdmin):
    raw_id_fields = ["profile"]
    list_select_related = ["profile"]
    list_display = ["profile", "query", "created_at"]


@admin.register(TagApplication)
class TagApplicationAdmin(ProfileActivityAdmin):
    raw_id_fields = ["profile", "title", "tag"]
    list_display = ["profile", "title", "tag", "created_at"]
