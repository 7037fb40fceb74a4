from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("recommendations", "0004_artifact_store")]

    operations = [
        migrations.AddField(
            model_name="modelversion",
            name="cancel_requested_at",
            field=models.DateTimeField(
                blank=True,
                help_text="Set by Cancel; the training stops at its next stage.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="modelversion",
            name="error_traceback",
            field=models.TextField(
                blank=True,
                help_text="A failed training's last frames (file, line, function).",
            ),
        ),
        migrations.AddField(
            model_name="modelversion",
            name="stage",
            field=models.CharField(
                blank=True,
                help_text="The stage a training is in while it runs (empty otherwise).",
                max_length=16,
            ),
        ),
        migrations.AddField(
            model_name="modelversion",
            name="stage_started_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="modelversion",
            name="stage_timings",
            field=models.JSONField(
                blank=True, default=dict, help_text="Seconds each training stage took."
            ),
        ),
    ]
