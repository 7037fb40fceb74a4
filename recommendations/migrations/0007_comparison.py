import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("recommendations", "0006_health"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ModelComparison",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(default=django.utils.timezone.now),
                ),
                ("label_a", models.CharField(max_length=80)),
                (
                    "config_a",
                    models.JSONField(
                        help_text="Training configuration and re-ranker settings "
                        "of side A."
                    ),
                ),
                ("label_b", models.CharField(max_length=80)),
                (
                    "config_b",
                    models.JSONField(
                        help_text="Training configuration and re-ranker settings "
                        "of side B."
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("queued", "Queued"),
                            ("running", "Running"),
                            ("done", "Done"),
                            ("failed", "Failed"),
                        ],
                        default="queued",
                        max_length=16,
                    ),
                ),
                ("attempts", models.PositiveIntegerField(default=0)),
                (
                    "heartbeat_at",
                    models.DateTimeField(
                        blank=True,
                        help_text="Renewed every few seconds by the worker.",
                        null=True,
                    ),
                ),
                ("started_at", models.DateTimeField(blank=True, null=True)),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                ("results", models.JSONField(blank=True, default=dict)),
                ("error", models.TextField(blank=True)),
                (
                    "promotion",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("", "Not asked"),
                            ("queued", "Queued"),
                            ("training", "Training"),
                            ("done", "Trained"),
                            ("failed", "Failed"),
                        ],
                        default="",
                        max_length=16,
                    ),
                ),
                (
                    "promoted_side",
                    models.CharField(
                        blank=True, choices=[("a", "A"), ("b", "B")], max_length=1
                    ),
                ),
                ("promoted_at", models.DateTimeField(blank=True, null=True)),
                ("promotion_reason", models.TextField(blank=True)),
                ("promotion_error", models.TextField(blank=True)),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "promoted_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "promoted_version",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="recommendations.modelversion",
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-id"],
                "verbose_name": "offline comparison",
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            ("status__in", ["queued", "running", "done", "failed"])
                        ),
                        name="model_comparison_status_valid",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("promoted_side__in", ["", "a", "b"])),
                        name="model_comparison_side_valid",
                    ),
                ],
            },
        ),
    ]
