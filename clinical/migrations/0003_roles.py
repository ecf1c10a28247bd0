"""Grant the clinical permissions of vetpms.roles.ROLE_PERMISSIONS (and create the Nurse group)."""

from django.db import migrations

from vetpms.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = [("clinical", "0002_signed_records_frozen"), ("invoicing", "0008_fill_open_invoices")]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
