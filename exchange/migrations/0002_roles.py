from django.db import migrations

from vetpms.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = [("exchange", "0001_importing")]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
