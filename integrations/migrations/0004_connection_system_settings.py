from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0003_connection_order_reference_to"),
    ]

    operations = [
        migrations.AddField(
            model_name="connection",
            name="system_settings",
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
