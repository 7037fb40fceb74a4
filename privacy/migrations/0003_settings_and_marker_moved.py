"""PrivacySettings moved to the consent app and the account-erasure marker to
accounts (their own migrations take them over): state only, the tables stay."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0002_consent_log_append_only"),
        ("consent", "0001_initial"),
        ("accounts", "0004_accounterasureinprogress"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="PrivacySettings"),
                migrations.DeleteModel(name="AccountErasureInProgress"),
            ],
            database_operations=[],
        ),
    ]
