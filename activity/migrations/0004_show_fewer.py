from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("activity", "0003_viewing_episode")]

    operations = [
        migrations.AlterField(
            model_name="feedback",
            name="kind",
            field=models.CharField(
                choices=[
                    ("not_interested", "Not interested"),
                    ("thumbs_up", "Thumbs up"),
                    ("thumbs_down", "Thumbs down"),
                    ("pick", "Picked at onboarding"),
                    ("show_fewer", "Show fewer like this"),
                ],
                max_length=16,
            ),
        ),
    ]
