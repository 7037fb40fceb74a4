"""Model versions (the registry), stored candidates and the home rows' state."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Profile
from catalog.models import Title


class ModelVersion(models.Model):
    """One training run and its artifact; exactly one may be active.

    A version in ``training`` belongs to a live process only while that
    process holds the training lease (``services.training``): on PostgreSQL
    an advisory lock on its own connection, on SQLite ``lease_expires_at``
    kept in the future by a heartbeat. One found ``training`` with its lease
    free is marked failed, with the reason in ``error``, as is a version whose
    file fails its checksum. While it trains, ``stage`` names the stage under
    way and ``stage_timings`` keeps each finished one's seconds; Cancel sets
    ``cancel_requested_at`` (``services.training_progress``).
    """

    class Status(models.TextChoices):
        TRAINING = "training", "Training"
        READY = "ready", "Ready"
        ACTIVE = "active", "Active"
        FAILED = "failed", "Failed"
        RETIRED = "retired", "Retired"

    algorithm = models.CharField(max_length=32)
    parameters = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status, default=Status.TRAINING)
    artifact = models.CharField(
        max_length=500,
        blank=True,
        help_text="Name of the .npz file in the artifact store (<sha256>.npz).",
    )
    sha256 = models.CharField(max_length=64, blank=True)
    data_counts = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    timings = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    error_traceback = models.TextField(
        blank=True, help_text="A failed training's last frames (file, line, function)."
    )
    stage = models.CharField(
        max_length=16,
        blank=True,
        help_text="The stage a training is in while it runs (empty otherwise).",
    )
    stage_started_at = models.DateTimeField(null=True, blank=True)
    stage_timings = models.JSONField(
        default=dict, blank=True, help_text="Seconds each training stage took."
    )
    cancel_requested_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Set by Cancel; the training stops at its next stage.",
    )
    lease_holder = models.CharField(
        max_length=255, blank=True, help_text="Host and process id that trained it."
    )
    lease_expires_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="SQLite: when the training's heartbeat lapses if not renewed.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        get_latest_by = "created_at"
        constraints = [
            models.UniqueConstraint(
                fields=["status"], condition=Q(status="active"), name="one_active_model"
            ),
            models.UniqueConstraint(
                fields=["status"],
                condition=Q(status="training"),
                name="one_training_at_a_time",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.algorithm} ({self.get_status_display()})"

    @property
    def ndcg(self) -> float | None:
        return self.metrics.get("ranking", {}).get("ndcg@10")

    @property
    def rmse(self) -> float | None:
        return self.metrics.get("rating", {}).get("rmse")


class StoredArtifact(models.Model):
    """A model file kept in the database (``RECOMMENDER_ARTIFACT_STORE=database``).

    Content-addressed: its key is the file's sha256. Written with its chunks
    in one transaction, so a reader finds a whole file or none; every process
    downloads it once into its local cache (``services.artifact_store``).
    """

    sha256 = models.CharField(max_length=64, primary_key=True)
    size = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.sha256[:12]}… ({self.size:,} bytes)"


class ArtifactChunk(models.Model):
    """One piece of a :class:`StoredArtifact`, in order of ``seq``."""

    artifact = models.ForeignKey(
        StoredArtifact, on_delete=models.CASCADE, related_name="chunks"
    )
    seq = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["artifact", "seq"], name="artifact_chunk_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.artifact_id[:12]}… #{self.seq}"


class ProfileCandidates(models.Model):
    """A profile's ranked candidate titles, replaced whole on every refresh.

    One row per profile (not one per title) keeps a refresh to a single
    upsert and a page's read to a single row.
    """

    profile = models.OneToOneField(
        Profile, on_delete=models.CASCADE, related_name="candidates"
    )
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    title_ids = models.JSONField(default=list)
    scores = models.JSONField(default=list)
    predicted = models.JSONField(default=list, help_text="Predicted rating per title.")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "profile candidates"

    def __str__(self) -> str:
        return f"Candidates for {self.profile}"


class TuningRun(models.Model):
    """The winner of a ``manage.py tune`` search; ``train --tuned`` uses the latest."""

    algorithm = models.CharField(max_length=32)
    best_params = models.JSONField()
    best_rmse = models.FloatField()
    details = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return (
            f"{self.algorithm} RMSE {self.best_rmse:.4f} ({self.created_at:%Y-%m-%d})"
        )


class TitleTrend(models.Model):
    """A title's time-decayed popularity of recent activity ("Trending now").

    Rewritten as a whole by the periodic ``refresh_trending`` task; the home
    page only reads it.
    """

    title = models.OneToOneField(
        Title, on_delete=models.CASCADE, primary_key=True, related_name="trend"
    )
    score = models.FloatField()
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-score"]

    def __str__(self) -> str:
        return f"{self.title_id}: {self.score:.3f}"


class SeedExclusion(models.Model):
    """A title the profile asked not to seed "Because you watched…" rows.

    Its history (rating, viewings) stays; only the row seeded by it goes.
    """

    profile = models.ForeignKey(
        Profile, on_delete=models.CASCADE, related_name="seed_exclusions"
    )
    title = models.ForeignKey(Title, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["profile", "title"], name="seed_exclusion_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.profile}: not {self.title_id}"


class RowEngagement(models.Model):
    """How often a profile acted (played, rated) on a title reached from a row
    kind; rows with more engagement rise on its home page."""

    profile = models.ForeignKey(
        Profile, on_delete=models.CASCADE, related_name="row_engagements"
    )
    row_kind = models.CharField(max_length=32)
    count = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["profile", "row_kind"], name="row_engagement_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.profile}: {self.row_kind} × {self.count}"


class HealthSnapshot(models.Model):
    """The recommendation health figures at one moment, kept as a history.

    Taken hourly and after each promotion (``services.health``). ``figures``
    holds the numbers each drawn with a sparkline across snapshots;
    ``details`` the tables (exposure by genre and decade, titles never
    recommended, sample sizes); ``alerts`` what crossed a guardrail against
    ``baseline``, the last snapshot of the model version before.
    """

    class Trigger(models.TextChoices):
        HOURLY = "hourly", "Hourly"
        PROMOTION = "promotion", "After a promotion"
        MANUAL = "manual", "Asked for"

    class Source(models.TextChoices):
        CANDIDATES = "candidates", "Stored candidates"
        IMPRESSIONS = "impressions", "Impressions"

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    trigger = models.CharField(max_length=16, choices=Trigger, default=Trigger.HOURLY)
    exposure_source = models.CharField(
        max_length=16,
        choices=Source,
        default=Source.CANDIDATES,
        help_text="What exposure was computed from: what was shown, or candidates.",
    )
    figures = models.JSONField(default=dict)
    details = models.JSONField(default=dict)
    alerts = models.JSONField(default=list, blank=True)
    baseline = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The snapshot the guardrails compared this one with.",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        get_latest_by = "created_at"
        verbose_name = "recommendation health"
        verbose_name_plural = "recommendation health"

    def __str__(self) -> str:
        return f"Health at {self.created_at:%Y-%m-%d %H:%M}"


class ModelComparison(models.Model):
    """Two training configurations judged offline on the same time split.

    The row is the truth about the run: queued until a worker claims it,
    running while that worker's heartbeat (``heartbeat_at``) is fresh, then
    done with ``results`` (every metric of both sides, the difference and its
    bootstrap interval) or failed with ``error``. A run found queued or
    running with a stale heartbeat is sent again (``services.comparison``);
    a done run is never recomputed. Promoting the winner trains its
    configuration for real; ``promotion`` follows that training the same way.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    class Promotion(models.TextChoices):
        NONE = "", "Not asked"
        QUEUED = "queued", "Queued"
        TRAINING = "training", "Training"
        DONE = "done", "Trained"
        FAILED = "failed", "Failed"

    class Side(models.TextChoices):
        A = "a", "A"
        B = "b", "B"

    #: Who asked; erased with their account, like the admin log.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    label_a = models.CharField(max_length=80)
    config_a = models.JSONField(
        help_text="Training configuration and re-ranker settings of side A."
    )
    label_b = models.CharField(max_length=80)
    config_b = models.JSONField(
        help_text="Training configuration and re-ranker settings of side B."
    )
    status = models.CharField(max_length=16, choices=Status, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Renewed every few seconds by the worker."
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    results = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    promotion = models.CharField(
        max_length=16, choices=Promotion, default=Promotion.NONE, blank=True
    )
    promoted_side = models.CharField(max_length=1, choices=Side, blank=True)
    promoted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    promoted_at = models.DateTimeField(null=True, blank=True)
    promotion_reason = models.TextField(blank=True)
    promotion_error = models.TextField(blank=True)
    promoted_version = models.ForeignKey(
        ModelVersion,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "offline comparison"
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "done", "failed"]),
                name="model_comparison_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(promoted_side__in=["", "a", "b"]),
                name="model_comparison_side_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.label_a} vs {self.label_b}"

    @property
    def verdict(self) -> str:
        return self.results.get("verdict", "")

    @property
    def winner(self) -> str | None:
        return self.results.get("winner")

    def label_of(self, side: str) -> str:
        return self.label_a if side == "a" else self.label_b

    def config_of(self, side: str) -> dict:
        return self.config_a if side == "a" else self.config_b


class Experiment(models.Model):
    """An online test of two or more arms (``services.experiments``).

    An A/B test shows each assigned profile its arm's configuration; an
    interleaving test shows every assigned profile one Top picks row drawn
    by team draft from two arms' rankings, each card remembering which arm
    contributed it. Assignment is ``engine.online.assign``: a hash of the
    experiment and the profile, so it is the same on every machine and every
    page; arms and traffic are fixed once the test runs. Profiles that left
    tests, in the non-profiling mode, or kids profiles (unless
    ``include_kids``) are never assigned.
    """

    class Kind(models.TextChoices):
        AB = "ab", "A/B test"
        INTERLEAVING = "interleaving", "Interleaving (Top picks)"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        RUNNING = "running", "Running"
        STOPPED = "stopped", "Stopped"
        PROMOTED = "promoted", "Promoted"

    name = models.CharField(max_length=80, unique=True)
    hypothesis = models.TextField(
        help_text="What the test should show, in a sentence viewers may read."
    )
    kind = models.CharField(max_length=16, choices=Kind, default=Kind.AB)
    traffic_share = models.FloatField(
        default=0.1,
        help_text="Share of eligible profiles in the test (0 to 1), split "
        "between the arms by their weights.",
    )
    include_kids = models.BooleanField(
        default=False, help_text="Kids profiles take part too (the same rules hold)."
    )
    status = models.CharField(max_length=16, choices=Status, default=Status.DRAFT)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    winner = models.CharField(
        max_length=8, blank=True, help_text="The arm promoted, if one was."
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(traffic_share__gt=0) & Q(traffic_share__lte=1),
                name="experiment_traffic_share_0_1",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ExperimentArm(models.Model):
    """One arm: a configuration delta over what everyone gets.

    ``config`` keys (``services.experiments.ARM_CONFIG_KEYS``): ``model_version``
    (candidates from that version), ``exploration`` (0–100) and
    ``calibration`` (defaults for viewers who have not set their own), and
    ``row_order`` (row kinds placed first, after Continue watching). An empty
    config is the control: what everyone gets.
    """

    experiment = models.ForeignKey(
        Experiment, on_delete=models.CASCADE, related_name="arms"
    )
    key = models.CharField(max_length=8, help_text="A, B, C…")
    name = models.CharField(max_length=80)
    weight = models.PositiveSmallIntegerField(default=1)
    config = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["experiment", "key"]
        constraints = [
            models.UniqueConstraint(
                fields=["experiment", "key"], name="experiment_arm_key_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.experiment} · arm {self.key}"


class ExperimentAssignment(models.Model):
    """A profile's arm in a test, written when it is first shown the test's
    rows with impressions kept. Personal data (exported, erased); the arm
    itself is ``engine.online.assign``'s, so this row is the record, and what
    the viewer sees on the how-recommendations-work page."""

    experiment = models.ForeignKey(
        Experiment, on_delete=models.CASCADE, related_name="assignments"
    )
    profile = models.ForeignKey(
        Profile, on_delete=models.CASCADE, related_name="experiment_assignments"
    )
    #: The arm's key, or "interleaved" in an interleaving test.
    arm = models.CharField(max_length=16)
    assigned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["experiment", "profile"], name="experiment_assignment_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.profile} in {self.experiment}, arm {self.arm}"


class ServingDefaults(models.Model):
    """What every profile gets unless a test or its own choice says
    otherwise: one row (pk 1), changed by promoting an experiment's arm.
    ``None`` (and an empty order) is the built-in default."""

    exploration = models.PositiveSmallIntegerField(null=True, blank=True)
    calibration = models.BooleanField(null=True, blank=True)
    row_order = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "serving defaults"

    def __str__(self) -> str:
        return "Serving defaults"
