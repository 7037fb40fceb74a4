from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("consent", "0002_privacysettings_context")]

    operations = [
        migrations.AddField(
            model_name="privacysettings",
            name="taste_adjustments",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text="Genre id → percent of the history's weight (0 = off).",
                verbose_name="taste adjustments",
            ),
        ),
    ]
