from django.contrib import admin
from django.db.models import Count

from catalog.models import Collection, CollectionItem, Genre, Tag, Title
from catalog.titles import sort_title_for


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


@admin.register(Title)
class TitleAdmin(admin.ModelAdmin):
    list_display = ["title", "year", "kind", "is_available", "movielens_id", "added_at"]
    list_filter = ["is_available", "kind", "genres", "year", "maturity_rating"]
    list_editable = ["is_available"]
    search_fields = ["title", "alternative_title", "=imdb_id", "=movielens_id"]
    readonly_fields = ["sort_title"]
    exclude = ["genres"]
    autocomplete_fields = ["tags"]
    inlines = [TitleGenreInline]
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
        ("Availability", {"fields": ["is_available", "added_at"]}),
        ("External ids", {"fields": ["movielens_id", "imdb_id", "tmdb_id"]}),
    ]

    def save_model(self, request, obj: Title, form, change: bool) -> None:
        obj.sort_title = sort_title_for(obj.title)
        super().save_model(request, obj, form, change)


class CollectionItemInline(admin.TabularInline):
    model = CollectionItem
    extra = 3
    autocomplete_fields = ["title"]
    fields = ["position", "title"]


@admin.register(Collection)
class CollectionAdmin(admin.ModelAdmin):
    list_display = ["name", "position", "starts_at", "ends_at"]
    list_editable = ["position"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [CollectionItemInline]
