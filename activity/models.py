"""What a profile does: ratings, viewings, searches, feedback, My List, tags.

Every row belongs to a profile; indexes serve the two hot reads, "this
profile's recent activity" and "everything about this title".
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Profile
from catalog.models import Episode, Tag, Title, episode_code

#: The MovieLens scale: 0.5 to 5.0 in half stars.
RATING_VALUES = tuple(v / 2 for v in range(1, 11))


class Rating(models.Model):
    profile = models.ForeignKey(
        Profile, on_delete=models.CASCADE, related_name="ratings"
    )
    title = models.ForeignKey(Title, on_delete=models.CASCADE, related_name="ratings")
    value = models.FloatField(choices=[(v, f"{v:g}★") for v in RATING_VALUES])
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["profile", "title"], name="rating_one_per_profile_title"
            ),
            models.CheckConstraint(
                condition=Q(value__in=RATING_VALUES), name="rating_half_stars_0_5_to_5"
            ),
        ]
        indexes = [
            models.Index(
                fields=["profile", "-updated_at"], name="rating_profile_recent"
            )
        ]

    def __str__(self) -> str:
        return f"{self.profile} rated {self.title}: {self.value:g}"


class ViewingEvent(models.Model):
    """One play of a title (of one episode, for a series with episodes);
    feeds "continue watching" and implicit feedback."""

    COMPLETED_AT = 0.9
    #: A title without a known runtime plays for this long.
    DEFAULT_RUNTIME_MINUTES = 100

    class Device(models.TextChoices):
        TV = "tv", "TV"
        DESKTOP = "desktop", "Desktop"
        MOBILE = "mobile", "Mobile"
        TABLET = "tablet", "Tablet"

    profile = models.ForeignKey(
        Profile, on_delete=models.CASCADE, related_name="viewings"
    )
    title = models.ForeignKey(Title, on_delete=models.CASCADE, related_name="viewings")
    episode = models.ForeignKey(
        Episode,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="viewings",
        help_text="The episode played, for a series that has episodes.",
    )
    started_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    seconds_watched = models.PositiveIntegerField(default=0)
    progress = models.FloatField(default=0.0)
    device_class = models.CharField(
        max_length=8, choices=Device, blank=True, help_text="Empty when context is off."
    )
    completed = models.BooleanField(default=False)
    dismissed = models.BooleanField(
        default=False, help_text="Removed from Continue Watching by the viewer."
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(progress__gte=0) & Q(progress__lte=1),
                name="viewing_progress_0_1",
            ),
        ]
        indexes = [
            models.Index(
                fields=["profile", "-started_at"], name="viewing_profile_recent"
            ),
            # "Where did this profile get to in this title?" (resume, and
            # Continue Watching's latest viewing per title).
            models.Index(
                fields=["profile", "title", "-started_at"],
                name="viewing_profile_title_recent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.profile} watched {self.title} ({self.progress:.0%})"

    @classmethod
    def runtime_seconds(cls, title: Title, episode: Episode | None = None) -> int:
        """How long a play lasts: the episode's runtime, else the title's."""
        minutes = episode.runtime_minutes if episode is not None else None
        return 60 * (minutes or title.runtime_minutes or cls.DEFAULT_RUNTIME_MINUTES)

    @property
    def play_seconds(self) -> int:
        return self.runtime_seconds(self.title, self.episode)

    @property
    def up_next_code(self) -> str:
        """Where the series resumes, "S2:E4": this viewing's episode while
        unfinished, else the next one (read from the ``next_season`` and
        ``next_number`` annotations of ``selectors.with_next_episode``).
        Empty for a viewing without an episode, and after a series' last."""
        if self.episode is None:
            return ""
        if not self.completed:
            return self.episode.code
        next_number = getattr(self, "next_number", None)
        if next_number is None:
            return ""
        return episode_code(self.next_season, next_number)

    @property
    def up_next_progress(self) -> float:
        """How far into :attr:`up_next_code` (0 when it is the next episode)."""
        if self.completed and getattr(self, "next_number", None) is not None:
            return 0.0
        return self.progress


class SearchEvent(models.Model):
    MAX_QUERY_LENGTH = 200

    profile = models.ForeignKey(
        Profile, on_delete=models.CASCADE, related_name="searches"
    )
    query = models.CharField(max_length=MAX_QUERY_LENGTH)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(
                fields=["profile", "-created_at"], name="search_profile_recent"
            )
        ]

    def __str__(self) -> str:
        return f"{self.profile} searched “{self.query}”"


class Feedback(models.Model):
    class Kind(models.TextChoices):
        NOT_INTERESTED = "not_interested", "Not interested"
        THUMBS_UP = "thumbs_up", "Thumbs up"
        THUMBS_DOWN = "thumbs_down", "Thumbs down"
        PICK = "pick", "Picked at onboarding"
        #: Soft: similar titles move down in the rows; nothing is hidden.
        SHOW_FEWER = "show_fewer", "Show fewer like this"

    profile = models.ForeignKey(
        Profile, on_delete=models.CASCADE, related_name="feedback"
    )
    title = models.ForeignKey(Title, on_delete=models.CASCADE, related_name="feedback")
    kind = models.CharField(max_length=16, choices=Kind)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "feedback"
        constraints = [
            models.UniqueConstraint(
                fields=["profile", "title", "kind"], name="feedback_one_kind_per_title"
            ),
        ]
        indexes = [
            models.Index(fields=["profile", "kind"], name="feedback_profile_kind")
        ]

    def __str__(self) -> str:
        return f"{self.profile}: {self.get_kind_display()} {self.title}"


class ListItem(models.Model):
    """A title on a profile's My List."""

    profile = models.ForeignKey(
        Profile, on_delete=models.CASCADE, related_name="list_items"
    )
    title = models.ForeignKey(
        Title, on_delete=models.CASCADE, related_name="list_items"
    )
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["profile", "title"], name="list_item_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["profile", "-added_at"], name="list_profile_recent")
        ]

    def __str__(self) -> str:
        return f"{self.title} on {self.profile}'s list"


class TagApplication(models.Model):
    """A tag a viewer put on a title (MovieLens tags.csv); personal data."""

    profile = models.ForeignKey(
        Profile, on_delete=models.CASCADE, related_name="tag_applications"
    )
    title = models.ForeignKey(
        Title, on_delete=models.CASCADE, related_name="tag_applications"
    )
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="applications")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["profile", "title", "tag"], name="tag_application_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.profile} tagged {self.title} “{self.tag}”"


class Impression(models.Model):
    """One card a profile was shown: the page view, the row and its place,
    the title and its place in the row, and what put it there (the model
    version, the experiment arm, and for an interleaved row the ranker that
    contributed it). A page view's cards are written in one insert
    (``activity.services.impressions_record``); a play or a rating of the
    title soon after marks the latest impression of it as taken
    (``impression_take``). Personal data: exported, erased and aged with
    the profile's activity; never written while viewing history is paused,
    in a private session, or in the non-profiling mode.

    ``model_version_id`` and ``experiment_id`` are plain ids: this app sits
    below recommendations, whose versions and experiments they name.
    """

    class Take(models.TextChoices):
        PLAY = "play", "Play"
        RATING = "rating", "Rating"

    class Surface(models.TextChoices):
        HOME = "home", "Home page"
        API = "api", "API"

    profile = models.ForeignKey(
        Profile, on_delete=models.CASCADE, related_name="impressions"
    )
    page_view = models.UUIDField(help_text="One page view: the cards shown together.")
    shown_at = models.DateTimeField(default=timezone.now)
    surface = models.CharField(max_length=8, choices=Surface, default=Surface.HOME)
    row_kind = models.CharField(max_length=16)
    row_position = models.PositiveSmallIntegerField(
        help_text="The row's place, 0 first."
    )
    title = models.ForeignKey(Title, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField(help_text="The card's place, 0 first.")
    model_version_id = models.PositiveIntegerField(null=True, blank=True)
    experiment_id = models.PositiveIntegerField(null=True, blank=True)
    arm = models.CharField(max_length=16, blank=True)
    ranker = models.CharField(
        max_length=16,
        blank=True,
        help_text="Interleaving: the arm whose ranker contributed the card, "
        'or both keys ("AB") when both rankers would have picked it.',
    )
    device_class = models.CharField(
        max_length=8, blank=True, help_text="Empty when context is off."
    )
    taken_at = models.DateTimeField(null=True, blank=True)
    take = models.CharField(max_length=8, choices=Take, blank=True)

    class Meta:
        indexes = [
            # Attribution: this profile's latest impression of this title.
            models.Index(
                fields=["profile", "title", "-shown_at"],
                name="impression_profile_title",
            ),
            # Analyses per experiment and arm, and per model version.
            models.Index(
                fields=["experiment_id", "arm", "shown_at"],
                name="impression_experiment",
            ),
            models.Index(
                fields=["model_version_id", "shown_at"], name="impression_version"
            ),
            # Pruning by age, and take rates over a period.
            models.Index(fields=["shown_at"], name="impression_shown_at"),
        ]

    def __str__(self) -> str:
        return f"{self.profile} was shown {self.title} ({self.row_kind})"
