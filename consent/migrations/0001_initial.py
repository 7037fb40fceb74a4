"""PrivacySettings moves here from the privacy app: state only.

Its table (``privacy_privacysettings``) and the hidden-genres table stay as
privacy's first migration created them; see ``consent/models.py`` for why
the model moved.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("accounts", "0003_profile_activity_changed_at"),
        ("catalog", "0003_collection_audience_title_boost"),
        ("privacy", "0002_consent_log_append_only"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="PrivacySettings",
                    fields=[
                        ("profile", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name="privacy", serialize=False, to="accounts.profile")),
                        ("personalization", models.BooleanField(default=True, help_text="Off: everyone's rows (trending, new, curated), no use of history.", verbose_name="personalized rows")),
                        ("pause_viewing_history", models.BooleanField(default=False, help_text="While on, plays are not stored.")),
                        ("pause_search_history", models.BooleanField(default=False, help_text="While on, searches are not stored.")),
                        ("contextual_signals", models.BooleanField(default=False, help_text="On: the device class is stored with a play and the time of day and device adjust the rows.", verbose_name="device and time of day")),
                        ("retention_months", models.PositiveSmallIntegerField(choices=[(0, "Keep until I delete it"), (3, "3 months"), (18, "18 months"), (36, "36 months")], default=0, verbose_name="auto-delete activity older than")),
                        ("exploration", models.PositiveSmallIntegerField(default=20, help_text="0 = familiar, 100 = adventurous: how much Top picks trade match for variety.")),
                        ("calibration", models.BooleanField(default=True, help_text="On: the genre mix of Top picks follows the history's mix.")),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        ("hidden_genres", models.ManyToManyField(blank=True, related_name="+", to="catalog.genre")),
                    ],
                    options={
                        "db_table": "privacy_privacysettings",
                        "verbose_name_plural": "privacy settings",
                        "constraints": [
                            models.CheckConstraint(condition=models.Q(("exploration__lte", 100)), name="privacy_exploration_0_100"),
                            models.CheckConstraint(condition=models.Q(("retention_months__in", [0, 3, 18, 36])), name="privacy_retention_choices"),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
