"""Grant the data-rights permissions of vetpms.roles.ROLE_PERMISSIONS (managers)."""

from django.db import migrations

from vetpms.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = [("exchange", "0005_datarights"), ("clinical", "0003_roles")]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
