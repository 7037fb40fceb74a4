"""What each profile allows: its privacy and personalization choices.

``PrivacySettings`` is read on every personalized page and by every service
that collects a signal: the home page's rows (personalization, exploration,
calibration, context, hidden genres) and the activity services (paused
histories, contextual signals, the private session). So it lives in this
small app below activity and recommendations, which obey it; the privacy
centre (``privacy``), on top, is where a person sees and changes it, and
every change goes through ``privacy.services.privacy_settings_update`` (which
writes the consent log). The rules that read it are :mod:`consent.policy`.
"""

from django.db import models
from django.db.models import Q

from accounts.models import Profile
from catalog.models import Genre
from consent.context import REGION_CHOICES, WEATHER_CHOICES


class PrivacySettings(models.Model):
    """One profile's privacy and personalization choices."""

    #: The choices a viewer makes with a toggle, a slider or a list (hidden
    #: genres aside); each change is logged as a ConsentEvent.
    CHOICE_FIELDS = (
        "personalization",
        "pause_viewing_history",
        "pause_search_history",
        "contextual_signals",
        "retention_months",
        "exploration",
        "calibration",
        "location",
        "region",
        "weather",
        "weather_today",
        "weather_provider",
        "experiments",
    )

    class Retention(models.IntegerChoices):
        KEEP = 0, "Keep until I delete it"
        MONTHS_3 = 3, "3 months"
        MONTHS_18 = 18, "18 months"
        MONTHS_36 = 36, "36 months"

    EXPLORATION_MAX = 100

    profile = models.OneToOneField(
        Profile, on_delete=models.CASCADE, related_name="privacy", primary_key=True
    )
    personalization = models.BooleanField(
        "personalized rows",
        default=True,
        help_text="Off: everyone's rows (trending, new, curated), no use of history.",
    )
    pause_viewing_history = models.BooleanField(
        default=False, help_text="While on, plays are not stored."
    )
    pause_search_history = models.BooleanField(
        default=False, help_text="While on, searches are not stored."
    )
    contextual_signals = models.BooleanField(
        "device and time of day",
        default=False,
        help_text="On: the device class is stored with a play and the time of day "
        "and device adjust the rows.",
    )
    retention_months = models.PositiveSmallIntegerField(
        "auto-delete activity older than", choices=Retention, default=Retention.KEEP
    )
    exploration = models.PositiveSmallIntegerField(
        default=20,
        help_text="0 = familiar, 100 = adventurous: how much Top picks trade "
        "match for variety.",
    )
    calibration = models.BooleanField(
        default=True,
        help_text="On: the genre mix of Top picks follows the history's mix.",
    )
    hidden_genres = models.ManyToManyField(Genre, blank=True, related_name="+")
    # Context the viewer declares (consent/context.py): off by default.
    location = models.BooleanField(
        "my region",
        default=False,
        help_text="On: the region below is used for a “Popular in …” row and "
        "counts, with at least 19 other profiles, towards that region's row.",
    )
    region = models.CharField(max_length=8, blank=True, choices=REGION_CHOICES)
    weather = models.BooleanField(
        "today's weather",
        default=False,
        help_text="On: the weather declared today (or the provider's, when on) "
        "picks a mood for the rows.",
    )
    weather_today = models.CharField(max_length=8, blank=True, choices=WEATHER_CHOICES)
    #: The day ``weather_today`` was declared for; it means nothing on another.
    weather_declared_on = models.DateField(null=True, blank=True)
    weather_provider = models.BooleanField(
        "look up the weather",
        default=False,
        help_text="On: the weather of the region's centre is asked of the "
        "configured provider; nothing is stored.",
    )
    #: The viewer's own weights for the genres of its taste (the privacy
    #: centre's sliders): genre id (a string, as JSON keys are) → percent of
    #: what the history says, one of ``recommendations.engine.taste.LEVELS``
    #: (0 off … 200 much more); a genre missing is "as you watch". Written
    #: only by ``privacy.services.taste_levels_set``; read by the home rows
    #: through ``consent.policy.taste_levels``.
    taste_adjustments = models.JSONField(
        "taste adjustments",
        default=dict,
        blank=True,
        help_text="Genre id → percent of the history's weight (0 = off).",
    )
    #: Online tests (``recommendations.services.experiments``): a profile
    #: that leaves is never assigned to one again.
    experiments = models.BooleanField(
        "take part in tests",
        default=True,
        help_text="On: this profile may be shown a variant of the rows being "
        "tested (named on the how-recommendations-work page).",
    )
    #: Controls the viewer has set itself (``exploration``, ``calibration``):
    #: a test's or the site's default never overrides these.
    own_choices = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # Created by the privacy app's first migration; moved here so that the
        # apps that obey these choices need not import the privacy centre.
        db_table = "privacy_privacysettings"
        verbose_name_plural = "privacy settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(exploration__lte=100), name="privacy_exploration_0_100"
            ),
            models.CheckConstraint(
                condition=Q(retention_months__in=[0, 3, 18, 36]),
                name="privacy_retention_choices",
            ),
        ]

    def __str__(self) -> str:
        return f"Privacy settings of {self.profile}"
