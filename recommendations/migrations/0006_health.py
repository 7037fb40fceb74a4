import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("recommendations", "0005_model_room")]

    operations = [
        migrations.CreateModel(
            name="HealthSnapshot",
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
                    models.DateTimeField(
                        db_index=True, default=django.utils.timezone.now
                    ),
                ),
                (
                    "trigger",
                    models.CharField(
                        choices=[
                            ("hourly", "Hourly"),
                            ("promotion", "After a promotion"),
                            ("manual", "Asked for"),
                        ],
                        default="hourly",
                        max_length=16,
                    ),
                ),
                (
                    "exposure_source",
                    models.CharField(
                        choices=[
                            ("candidates", "Stored candidates"),
                            ("impressions", "Impressions"),
                        ],
                        default="candidates",
                        help_text="What exposure was computed from: what was "
                        "shown, or candidates.",
                        max_length=16,
                    ),
                ),
                ("figures", models.JSONField(default=dict)),
                ("details", models.JSONField(default=dict)),
                ("alerts", models.JSONField(blank=True, default=list)),
                (
                    "baseline",
                    models.ForeignKey(
                        blank=True,
                        help_text="The snapshot the guardrails compared this one with.",
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="recommendations.healthsnapshot",
                    ),
                ),
                (
                    "model_version",
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
                "verbose_name": "recommendation health",
                "verbose_name_plural": "recommendation health",
                "ordering": ["-created_at", "-id"],
                "get_latest_by": "created_at",
            },
        ),
    ]
