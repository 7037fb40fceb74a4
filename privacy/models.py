"""The privacy centre's own rows: the audit trail of every change (the
consent log), exports and erasure receipts.

The choices themselves (``PrivacySettings``) live in ``consent.models``, below
the apps that obey them; the marker that lets an account erasure delete the
consent log lives with the accounts (``accounts.models.AccountErasureInProgress``).
"""

from django.conf import settings
from django.db import models
from django.utils import timezone


class ConsentEvent(models.Model):
    """One settings change, export or erasure: who, what, old → new, when.

    Append-only: the database refuses UPDATE, and DELETE unless the whole
    account is being erased (a row of ``accounts.models.AccountErasureInProgress``
    for the user exists, written by the erasure service in the same transaction).
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

    @property
    def is_receipt(self) -> bool:
        """A line saying what a control did to the rows (``privacy.receipts``):
        its words are ``new_value``."""
        return self.what.startswith("receipt: ")


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
