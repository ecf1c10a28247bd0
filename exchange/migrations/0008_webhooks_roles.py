"""Grant the webhook permissions of vetpms.roles.ROLE_PERMISSIONS (managers)."""

from django.db import migrations

from vetpms.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = [("exchange", "0007_webhooks")]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
