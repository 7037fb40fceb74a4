"""The catalog: titles, their genres and tags, and curated collections (rows)."""

import re
from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from catalog.posters import poster_version
from config.links import reverse_pk

if TYPE_CHECKING:
    from accounts.models import Profile


class Genre(models.Model):
    name = models.CharField(max_length=64, unique=True)
    slug = models.SlugField(max_length=64, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    """A free-text label; editorial on a title, or applied by a viewer (activity)."""

    name = models.CharField(max_length=255, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


#: Maturity ratings a kids profile may see.
KIDS_MATURITY_RATINGS = ("G", "PG")
#: An unrated title is for children when it has one of these genres...
KIDS_GENRES = ("Children", "Animation")
#: ...and none of these.
NOT_FOR_KIDS_GENRES = ("Horror", "Thriller", "Crime", "War", "Film-Noir")


def runtime_text(runtime_minutes: int | None) -> str:
    """ "2 h 16 min", "45 min", or "" when unknown."""
    if not runtime_minutes:
        return ""
    hours, minutes = divmod(runtime_minutes, 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


class TitleQuerySet(models.QuerySet["Title"]):
    def available(self) -> "TitleQuerySet":
        return self.filter(is_available=True)

    def for_profile(self, profile: "Profile | None") -> "TitleQuerySet":
        """The titles ``profile`` may see: the one place the kids rule lives.

        Anonymous visitors and grown-up profiles see every available title. A
        kids profile sees only available titles suitable for children:

        - rated G or PG, whatever their genres (maturity data wins where
          present); never a title rated PG-13, R or NC-17;
        - unrated, when its genres include Children or Animation and none of
          Horror, Thriller, Crime, War or Film-Noir (MovieLens has no maturity
          data, so its catalog is judged by genre).

        Every catalog read that shows titles goes through here (home rows,
        title page, genre pages, search, onboarding); posters stay public.
        """
        titles = self.available()
        if profile is not None and profile.is_kids:
            titles = titles.suitable_for_kids()
        return titles

    def suitable_for_kids(self) -> "TitleQuerySet":
        """Titles a kids profile may see; see :meth:`for_profile` for the rule."""
        genres = Title.genres.through.objects.filter(title_id=OuterRef("pk"))
        return self.filter(
            Q(maturity_rating__in=KIDS_MATURITY_RATINGS)
            | Q(
                Exists(genres.filter(genre__name__in=KIDS_GENRES)),
                ~Exists(genres.filter(genre__name__in=NOT_FOR_KIDS_GENRES)),
                maturity_rating=Title.Maturity.UNRATED,
            )
        )


#: Bounds of a curator's boost or demote factor (``Title.boost``).
BOOST_MIN, BOOST_MAX = 0.5, 1.5


class Title(models.Model):
    class Kind(models.TextChoices):
        MOVIE = "movie", "Movie"
        SERIES = "series", "Series"

    class Maturity(models.TextChoices):
        UNRATED = "", "Not rated"
        G = "G", "G"
        PG = "PG", "PG"
        PG13 = "PG-13", "PG-13"
        R = "R", "R"
        NC17 = "NC-17", "NC-17"

    class Source(models.TextChoices):
        CURATED = "curated", "Added by a curator"
        MOVIELENS = "movielens", "Imported from MovieLens"
        DEMO = "demo", "Demo catalog"

    kind = models.CharField(max_length=8, choices=Kind, default=Kind.MOVIE)
    title = models.CharField(
        max_length=255, help_text="Display title, e.g. “The Matrix”."
    )
    sort_title = models.CharField(
        max_length=255, db_index=True, help_text="Lower case, leading article dropped."
    )
    alternative_title = models.CharField(
        max_length=255, blank=True, help_text="Original-language or a.k.a. title."
    )
    year = models.PositiveSmallIntegerField(null=True, blank=True, db_index=True)
    end_year = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Last year of a series, if it has ended."
    )
    runtime_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    synopsis = models.TextField(blank=True)
    maturity_rating = models.CharField(
        max_length=8, choices=Maturity, default=Maturity.UNRATED, blank=True
    )
    genres = models.ManyToManyField(Genre, related_name="titles", blank=True)
    tags = models.ManyToManyField(
        Tag, related_name="titles", blank=True, help_text="Editorial tags."
    )
    movielens_id = models.PositiveIntegerField(unique=True, null=True, blank=True)
    imdb_id = models.CharField("IMDb id", max_length=16, blank=True)
    tmdb_id = models.PositiveIntegerField("TMDb id", null=True, blank=True)
    source = models.CharField(max_length=16, choices=Source, default=Source.CURATED)
    is_available = models.BooleanField(
        default=True, db_index=True, help_text="Off hides the title from every row."
    )
    added_at = models.DateTimeField(default=timezone.now, db_index=True)
    boost = models.FloatField(
        default=1.0,
        help_text="Curators' factor on this title's score in every personalized "
        f"row: {BOOST_MIN} (demote) to {BOOST_MAX} (boost); 1 leaves it alone.",
    )

    objects = TitleQuerySet.as_manager()

    class Meta:
        ordering = ["sort_title", "year", "id"]
        indexes = [models.Index(fields=["sort_title", "year"], name="title_sort_year")]
        constraints = [
            models.CheckConstraint(
                condition=Q(runtime_minutes__isnull=True) | Q(runtime_minutes__gt=0),
                name="title_runtime_positive",
            ),
            models.CheckConstraint(
                condition=Q(boost__gte=BOOST_MIN, boost__lte=BOOST_MAX),
                name="title_boost_bounded",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.year})" if self.year else self.title

    def get_absolute_url(self) -> str:
        return reverse_pk("catalog:title", self.pk)

    @property
    def runtime_display(self) -> str:
        """ "2 h 16 min", "45 min", or "" when unknown."""
        return runtime_text(self.runtime_minutes)

    @property
    def poster_url(self) -> str:
        """The generated poster; the version token changes when the text does."""
        url = reverse_pk("catalog:poster", self.pk)
        return f"{url}?v={poster_version(self.title, self.year)}"

    #: How many placeholder tints the cards have (``.poster-tint-0``… in CSS).
    POSTER_TINTS = 6

    @property
    def poster_tint(self) -> int:
        """The placeholder tint a card shows while the poster loads."""
        return (self.pk or 0) % self.POSTER_TINTS

    @property
    def poster_initials(self) -> str:
        """Up to two initials ("PB" for "Paper Ballad", "TG" for "The Thief's
        Garden" without its article): drawn in the box before the poster paints."""
        words = [w for w in re.split(r"[\s:\-–—]+", self.title) if w[:1].isalnum()]
        if len(words) > 1 and words[0].lower() in {"the", "a", "an"}:
            words = words[1:]
        return "".join(w[0] for w in words[:2]).upper()


class Season(models.Model):
    """One season of a series (``Title.kind`` SERIES); its episodes play in order."""

    title = models.ForeignKey(Title, on_delete=models.CASCADE, related_name="seasons")
    number = models.PositiveSmallIntegerField()
    name = models.CharField(
        max_length=255, blank=True, help_text="Empty: shown as “Season <number>”."
    )

    class Meta:
        ordering = ["title", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["title", "number"], name="season_unique_number"
            ),
            models.CheckConstraint(
                condition=Q(number__gt=0), name="season_number_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title.title}: {self.display_name}"

    @property
    def display_name(self) -> str:
        return self.name or f"Season {self.number}"


class EpisodeQuerySet(models.QuerySet["Episode"]):
    def in_order(self) -> "EpisodeQuerySet":
        """Watching order: by season, then by episode."""
        return self.order_by("season__number", "number")

    def after(self, episode: "Episode") -> "EpisodeQuerySet":
        """The series' episodes that come after ``episode``, in order."""
        return (
            self.filter(season__title_id=episode.season.title_id)
            .filter(
                Q(season__number__gt=episode.season.number)
                | Q(season__number=episode.season.number, number__gt=episode.number)
            )
            .select_related("season")
            .in_order()
        )


class Episode(models.Model):
    """One episode of a season. Viewings are per episode; ratings stay per series."""

    season = models.ForeignKey(
        Season, on_delete=models.CASCADE, related_name="episodes"
    )
    number = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=255, blank=True)
    runtime_minutes = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Empty: the series' typical runtime."
    )
    synopsis = models.TextField(blank=True)

    objects = EpisodeQuerySet.as_manager()

    class Meta:
        ordering = ["season", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["season", "number"], name="episode_unique_number"
            ),
            models.CheckConstraint(
                condition=Q(number__gt=0), name="episode_number_positive"
            ),
            models.CheckConstraint(
                condition=Q(runtime_minutes__isnull=True) | Q(runtime_minutes__gt=0),
                name="episode_runtime_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}".rstrip()

    @property
    def code(self) -> str:
        """ "S2:E4", as Continue watching and the player show it."""
        return episode_code(self.season.number, self.number)

    @property
    def display_title(self) -> str:
        return self.title or f"Episode {self.number}"

    @property
    def runtime_display(self) -> str:
        return runtime_text(self.runtime_minutes)


def episode_code(season: int, episode: int) -> str:
    """ "S2:E4" for season 2, episode 4."""
    return f"S{season}:E{episode}"


class CollectionQuerySet(models.QuerySet["Collection"]):
    def active(self, at=None) -> "CollectionQuerySet":
        """Collections whose active window contains ``at`` (default: now)."""
        at = at or timezone.now()
        return self.filter(
            Q(starts_at__isnull=True) | Q(starts_at__lte=at),
            Q(ends_at__isnull=True) | Q(ends_at__gt=at),
        )


class Collection(models.Model):
    """A curated row on the home page, kept by curators in the admin."""

    class Audience(models.TextChoices):
        EVERYONE = "everyone", "Everyone"
        KIDS = "kids", "Kids profiles"
        GENRES = "genres", "Lovers of chosen genres"

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    position = models.PositiveSmallIntegerField(
        default=0,
        help_text="Pinned place among the home page's rows (0 = first row); "
        "collections with the same place keep this order.",
    )
    audience = models.CharField(
        max_length=8, choices=Audience, default=Audience.EVERYONE
    )
    audience_genres = models.ManyToManyField(
        Genre,
        blank=True,
        related_name="+",
        help_text="With the audience “lovers of genres”: shown to profiles whose "
        "history leans to one of these genres.",
    )
    titles = models.ManyToManyField(
        Title, through="CollectionItem", related_name="collections"
    )

    objects = CollectionQuerySet.as_manager()

    class Meta:
        ordering = ["position", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True)
                | Q(ends_at__isnull=True)
                | Q(ends_at__gt=models.F("starts_at")),
                name="collection_window_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CollectionItem(models.Model):
    collection = models.ForeignKey(
        Collection, on_delete=models.CASCADE, related_name="items"
    )
    title = models.ForeignKey(Title, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["collection", "title"], name="collection_item_unique_title"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.collection}: {self.title}"
