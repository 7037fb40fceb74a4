"""The account-erasure marker moves here from the privacy app: state only.

Its table keeps its name (``privacy_accounterasureinprogress``), which the
consent log's database trigger reads.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_profile_activity_changed_at"),
        ("privacy", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AccountErasureInProgress",
                    fields=[
                        ("user_id", models.BigIntegerField(primary_key=True, serialize=False)),
                    ],
                    options={"db_table": "privacy_accounterasureinprogress"},
                ),
            ],
            database_operations=[],
        ),
    ]
