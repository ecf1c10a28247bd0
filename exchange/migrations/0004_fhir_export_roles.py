"""Grant the bulk export permission of vetpms.roles.ROLE_PERMISSIONS (managers)."""

from django.db import migrations

from vetpms.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = [("exchange", "0003_fhir_export")]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
