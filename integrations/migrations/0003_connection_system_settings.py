from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0002_unverified_creates_blocked_entities"),
    ]

    operations = [
        migrations.AddField(
            model_name="connection",
            name="system_settings",
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
