"""Create the Receptionist, Vet and Manager groups with the permissions of vetpms.roles.ROLE_PERMISSIONS."""

from django.db import migrations

from vetpms.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = [
        ("vetpms", "0001_initial"),
        ("clients", "0002_search_index"),
        ("animals", "0004_seed_species"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
