"""On PostgreSQL the database itself refuses two blocking appointments of one vet that overlap.

tstzrange(start, end, '[)') is half-open, so back-to-back appointments do not conflict; cancelled and no-show
appointments are outside the constraint's WHERE and never block. btree_gist lets vet_id (a plain equality) sit
in the same GiST index as the range.
"""

from django.db import migrations

from vetpms.migration_ops import postgres_only


class Migration(migrations.Migration):
    dependencies = [("appointments", "0001_initial")]

    operations = [
        postgres_only("CREATE EXTENSION IF NOT EXISTS btree_gist", "SELECT 1"),
        postgres_only(
            """
            ALTER TABLE appointments_appointment ADD CONSTRAINT appointment_no_overlap
            EXCLUDE USING gist (vet_id WITH =, tstzrange("start", "end", '[)') WITH &&)
            WHERE (status NOT IN ('cancelled', 'no_show'))
            """,
            "ALTER TABLE appointments_appointment DROP CONSTRAINT IF EXISTS appointment_no_overlap",
        ),
    ]
