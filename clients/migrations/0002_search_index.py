from django.db import migrations

from vetpms.migration_ops import postgres_only


class Migration(migrations.Migration):
    dependencies = [("clients", "0001_initial")]

    operations = [
        postgres_only("CREATE EXTENSION IF NOT EXISTS pg_trgm", "SELECT 1"),
        postgres_only(
            "CREATE INDEX IF NOT EXISTS client_search_trgm ON clients_client USING gin (search_text gin_trgm_ops)",
            "DROP INDEX IF EXISTS client_search_trgm",
        ),
    ]
