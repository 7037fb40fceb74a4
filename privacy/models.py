"""What each profile allows, the audit trail of every change, exports and
erasure receipts.

``PrivacySettings`` is read on every personalized page: the home page's rows
(personalization, exploration, calibration, context, hidden genres) and the
activity services (paused histories, contextual signals). A profile without
a row has the defaults (:func:`privacy.selectors.settings_for`).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Profile
from catalog.models import Genre


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
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
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


class ConsentEvent(models.Model):
    """One settings change, export or erasure: who, what, old → new, when.

    Append-only: the database refuses UPDATE, and DELETE unless the whole
    account is being erased (a row of :class:`AccountErasureInProgress` for
    the user exists, written by the erasure service in the same transaction).
    The profile is kept by id and name, not by foreign key, so erasing one
    profile leaves the account's log whole.
    """

    class Kind(models.TextChoices):
        SETTING = "setting", "Setting changed"
        EXPORT = "export", "Export requested"
        ERASURE = "erasure", "Data erased"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    profile_id_at_time = models.PositiveBigIntegerField(null=True, blank=True)
    profile_name = models.CharField(max_length=40, blank=True)
    kind = models.CharField(max_length=16, choices=Kind)
    what = models.CharField(max_length=80)
    old_value = models.TextField(blank=True)
    new_value = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.what}"


class AccountErasureInProgress(models.Model):
    """Present only inside an account erasure's transaction: the one time the
    database lets that account's consent log be deleted."""

    user_id = models.BigIntegerField(primary_key=True)

    def __str__(self) -> str:
        return f"Erasing account {self.user_id}"


class DataExport(models.Model):
    """A "Download my data" zip of an account, built by a Celery task."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        RUNNING = "running", "Building"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"

    LIFETIME_DAYS = 7
    MAX_PER_DAY = 3

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exports"
    )
    status = models.CharField(max_length=16, choices=Status, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done.")
    file = models.CharField(max_length=500, blank=True, help_text="Path of the zip.")
    size = models.PositiveBigIntegerField(default=0)
    row_counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Export {self.pk} ({self.status})"


class ErasureReceipt(models.Model):
    """What an account erasure removed, kept without naming anybody."""

    created_at = models.DateTimeField(default=timezone.now)
    scope = models.CharField(max_length=16)
    row_counts = models.JSONField(default=dict)
    model_versions = models.JSONField(
        default=list, help_text="Model versions that no longer hold the data."
    )
    reference = models.CharField(max_length=32, unique=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Erasure {self.reference}"
