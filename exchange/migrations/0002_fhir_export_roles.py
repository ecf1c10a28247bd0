"""Grant the bulk export permission of vetpms.roles.ROLE_PERMISSIONS (managers)."""

from django.db import migrations

from vetpms.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = [
        ("exchange", "0001_fhir_export"),
        ("clinical", "0003_roles"),
        ("reminders", "0007_delivery_sent_index"),
        ("reports", "0001_initial"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
