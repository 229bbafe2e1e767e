"""Product imports: the time of their last step or progress write (a running import not updated
for a while lost its worker), and the "discarded" status (a checked file not applied)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("commerce", "0002_favourites_pairs_imports"),
    ]

    operations = [
        migrations.AddField(
            model_name="productimport",
            name="updated_at",
            field=models.DateTimeField(auto_now=True, verbose_name="last progress"),
        ),
        migrations.AlterField(
            model_name="productimport",
            name="status",
            field=models.CharField(
                choices=[
                    ("checking", "Checking"),
                    ("checked", "Checked"),
                    ("invalid", "Has errors"),
                    ("applying", "Applying"),
                    ("applied", "Applied"),
                    ("failed", "Failed"),
                    ("discarded", "Discarded"),
                ],
                default="checking",
                max_length=16,
                verbose_name="status",
            ),
        ),
    ]
