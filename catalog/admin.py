from django.contrib import admin
from django.db.models import Count
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import capfirst

from catalog import services
from catalog.models import (
    Collection,
    CollectionItem,
    Episode,
    Genre,
    Season,
    Tag,
    Title,
)
from catalog.titles import sort_title_for

BOOST_STEP = 1.25
DEMOTE_STEP = 0.75


class LabelledListEditable:
    """Names each input of a changelist's editable columns ("Boost of Heat
    (1995)"): Django renders them with no label, which WCAG 2.2 (1.3.1, 4.1.2)
    and a screen reader need."""

    def get_changelist_form(self, request, **kwargs):
        form = super().get_changelist_form(request, **kwargs)

        class Labelled(form):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                for field in self.fields.values():
                    if not field.widget.is_hidden:
                        label = f"{capfirst(field.label)} of {self.instance}"
                        field.widget.attrs["aria-label"] = label

        return Labelled


@admin.register(Genre)
class GenreAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "title_count"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(title_count=Count("titles"))

    @admin.display(ordering="title_count", description="titles")
    def title_count(self, obj: Genre) -> int:
        return obj.title_count


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]


class TitleGenreInline(admin.TabularInline):
    model = Title.genres.through
    extra = 1
    verbose_name = "genre"
    verbose_name_plural = "genres"
    autocomplete_fields = ["genre"]


class SeasonInline(admin.TabularInline):
    """A series' seasons; each season's episodes are edited on its own page."""

    model = Season
    extra = 0
    fields = ("number", "name", "episode_count")
    readonly_fields = ("episode_count",)
    show_change_link = True

    @admin.display(description="Episodes")
    def episode_count(self, season: Season) -> int:
        return season.episodes.count()


class EpisodeInline(admin.TabularInline):
    model = Episode
    extra = 0
    fields = ("number", "title", "runtime_minutes", "synopsis")


@admin.register(Season)
class SeasonAdmin(admin.ModelAdmin):
    list_display = ("__str__", "number")
    list_select_related = ("title",)
    search_fields = ("title__title",)
    autocomplete_fields = ("title",)
    inlines = [EpisodeInline]


@admin.register(Title)
class TitleAdmin(LabelledListEditable, admin.ModelAdmin):
    list_display = [
        "title",
        "year",
        "kind",
        "is_available",
        "boost",
        "movielens_id",
        "added_at",
    ]
    list_filter = ["is_available", "kind", "genres", "year", "maturity_rating"]
    list_editable = ["is_available", "boost"]
    actions = ["make_available", "make_unavailable", "boost", "demote", "reset_boost"]
    search_fields = ["title", "alternative_title", "=imdb_id", "=movielens_id"]
    readonly_fields = ["sort_title"]
    exclude = ["genres"]
    autocomplete_fields = ["tags"]
    inlines = [TitleGenreInline, SeasonInline]
    list_per_page = 50
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "title",
                    "sort_title",
                    "alternative_title",
                    "kind",
                    "year",
                    "end_year",
                    "runtime_minutes",
                    "maturity_rating",
                    "synopsis",
                    "tags",
                ]
            },
        ),
        (
            "Curation",
            {
                "fields": ["is_available", "boost", "added_at"],
                "description": "Unavailable titles leave every row at once. "
                "Boost (up to 1.5) or demote (down to 0.5) multiplies the title's "
                "score in personalized rows; 1 leaves it alone.",
            },
        ),
        ("External ids", {"fields": ["movielens_id", "imdb_id", "tmdb_id"]}),
    ]

    def save_model(self, request, obj: Title, form, change: bool) -> None:
        obj.sort_title = sort_title_for(obj.title)
        super().save_model(request, obj, form, change)
        services.catalog_changed()

    def _curate(self, request, queryset, done: str, **changes) -> None:
        count = services.title_curate(titles=queryset, **changes)
        self.message_user(request, f"{count} title(s) {done}.")

    @admin.action(description="Make available (show in rows)")
    def make_available(self, request, queryset) -> None:
        self._curate(request, queryset, "made available", is_available=True)

    @admin.action(description="Make unavailable (remove from every row)")
    def make_unavailable(self, request, queryset) -> None:
        self._curate(request, queryset, "made unavailable", is_available=False)

    @admin.action(description=f"Boost (×{BOOST_STEP} in personalized rows)")
    def boost(self, request, queryset) -> None:
        self._curate(request, queryset, "boosted", boost=BOOST_STEP)

    @admin.action(description=f"Demote (×{DEMOTE_STEP} in personalized rows)")
    def demote(self, request, queryset) -> None:
        self._curate(request, queryset, "demoted", boost=DEMOTE_STEP)

    @admin.action(description="Reset boost to 1")
    def reset_boost(self, request, queryset) -> None:
        self._curate(request, queryset, "reset", boost=1.0)


class CollectionItemInline(admin.TabularInline):
    """The collection's titles, ordered by their number (lowest first)."""

    model = CollectionItem
    extra = 3
    autocomplete_fields = ["title"]
    fields = ["position", "title"]
    verbose_name = "title"
    verbose_name_plural = "titles, in order (lowest number first)"


@admin.register(Collection)
class CollectionAdmin(LabelledListEditable, admin.ModelAdmin):
    list_display = [
        "name",
        "position",
        "audience",
        "starts_at",
        "ends_at",
        "is_live",
        "title_count",
        "preview_link",
    ]
    list_editable = ["position"]
    list_filter = ["audience"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["audience_genres"]
    inlines = [CollectionItemInline]
    fieldsets = [
        (None, {"fields": ["name", "slug", "description"]}),
        (
            "On the home page",
            {
                "fields": ["position", "starts_at", "ends_at"],
                "description": "Shown while now is inside the window (empty = open); "
                "pinned at this row number of the home page.",
            },
        ),
        ("Audience", {"fields": ["audience", "audience_genres"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(title_count=Count("items"))

    def get_urls(self):
        preview = self.admin_site.admin_view(self.preview)
        return [
            path("<int:pk>/preview/", preview, name="catalog_collection_preview"),
            *super().get_urls(),
        ]

    def save_model(self, request, obj, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        services.catalog_changed()

    def save_related(self, request, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        services.catalog_changed()

    @admin.display(ordering="title_count", description="titles")
    def title_count(self, obj: Collection) -> int:
        return obj.title_count

    @admin.display(boolean=True, description="live now")
    def is_live(self, obj: Collection) -> bool:
        now = timezone.now()
        return (obj.starts_at is None or obj.starts_at <= now) and (
            obj.ends_at is None or obj.ends_at > now
        )

    @admin.display(description="preview")
    def preview_link(self, obj: Collection) -> str:
        url = reverse("admin:catalog_collection_preview", args=[obj.pk])
        return format_html('<a href="{}">Preview</a>', url)

    def preview(self, request, pk: int) -> TemplateResponse:
        """The row as viewers will see it: its titles in order, with the ones
        left out (unavailable) named."""
        collection = get_object_or_404(Collection, pk=pk)
        items = list(
            collection.items.select_related("title").order_by("position", "id")
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Preview: {collection.name}",
            "collection": collection,
            "shown": [i.title for i in items if i.title.is_available],
            "left_out": [i.title for i in items if not i.title.is_available],
            "is_live": self.is_live(collection),
            "audience_genres": list(collection.audience_genres.all()),
        }
        return TemplateResponse(
            request, "admin/catalog/collection/preview.html", context
        )
