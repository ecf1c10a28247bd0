from django.db import migrations

from vetpms.migration_ops import postgres_only


class Migration(migrations.Migration):
    dependencies = [("animals", "0002_initial"), ("clients", "0002_search_index")]

    operations = [
        postgres_only(
            "CREATE INDEX IF NOT EXISTS animal_search_trgm ON animals_animal USING gin (search_text gin_trgm_ops)",
            "DROP INDEX IF EXISTS animal_search_trgm",
        ),
    ]
