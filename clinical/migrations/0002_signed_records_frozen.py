"""A signed consultation is a permanent record, enforced by the database itself (as issued invoices are, see
invoicing 0002), so no path (UI, API, admin, a service, a raw UPDATE) can alter it.

Refused by triggers:

* any UPDATE of a signed consultation (signing itself is the last UPDATE: it starts from a draft);
* INSERT, UPDATE of a diagnosis, vaccination or prescription row belonging to a signed consultation; the one change
  a signed consultation's vaccination or prescription still accepts is losing its ``invoice_line`` (the draft
  invoice line that charged it was removed at the desk), which is billing, not the clinical record;
* any UPDATE of an addendum (corrections of corrections are new addenda);
* UPDATE of a weight that a signed consultation recorded.

On PostgreSQL the same triggers refuse DELETE too. SQLite gets no DELETE triggers: Django's test flush empties
tables with DELETE in an arbitrary order, which a DELETE trigger would break; there the models' guards and the
PROTECT foreign keys refuse deletions, as for invoices.
"""

from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION clinical_consultation_frozen() RETURNS trigger AS $$
BEGIN
    IF OLD.status = 'signed' THEN
        RAISE EXCEPTION USING
            MESSAGE = 'consultation ' || OLD.id || ' is signed: a permanent record', ERRCODE = '23000';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER consultation_frozen BEFORE UPDATE OR DELETE ON clinical_consultation
FOR EACH ROW EXECUTE FUNCTION clinical_consultation_frozen();

-- TG_ARGV[0] = 'billing': the row may lose its invoice line (and change nothing else) after signing.
CREATE OR REPLACE FUNCTION clinical_child_frozen() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        IF OLD.consultation_id IS NOT NULL AND EXISTS (
            SELECT 1 FROM clinical_consultation WHERE id = OLD.consultation_id AND status = 'signed'
        ) THEN
            IF TG_OP = 'UPDATE' AND TG_NARGS > 0 AND TG_ARGV[0] = 'billing'
               AND (to_jsonb(NEW) - 'invoice_line_id') = (to_jsonb(OLD) - 'invoice_line_id') THEN
                RETURN NEW;
            END IF;
            RAISE EXCEPTION USING
                MESSAGE = TG_TABLE_NAME || ' ' || OLD.id || ' belongs to a signed consultation', ERRCODE = '23000';
        END IF;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    IF NEW.consultation_id IS NOT NULL AND EXISTS (
        SELECT 1 FROM clinical_consultation WHERE id = NEW.consultation_id AND status = 'signed'
    ) THEN
        RAISE EXCEPTION USING MESSAGE = TG_TABLE_NAME || ': the consultation is signed', ERRCODE = '23000';
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER consultationdiagnosis_frozen BEFORE INSERT OR UPDATE OR DELETE ON clinical_consultationdiagnosis
FOR EACH ROW EXECUTE FUNCTION clinical_child_frozen();
CREATE TRIGGER vaccination_frozen BEFORE INSERT OR UPDATE OR DELETE ON clinical_vaccination
FOR EACH ROW EXECUTE FUNCTION clinical_child_frozen('billing');
CREATE TRIGGER prescription_frozen BEFORE INSERT OR UPDATE OR DELETE ON clinical_prescription
FOR EACH ROW EXECUTE FUNCTION clinical_child_frozen('billing');

CREATE OR REPLACE FUNCTION clinical_addendum_frozen() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = 'addendum ' || OLD.id || ' is a permanent record', ERRCODE = '23000';
END $$ LANGUAGE plpgsql;

CREATE TRIGGER addendum_frozen BEFORE UPDATE OR DELETE ON clinical_addendum
FOR EACH ROW EXECUTE FUNCTION clinical_addendum_frozen();

CREATE OR REPLACE FUNCTION clinical_weight_frozen() RETURNS trigger AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM clinical_consultation WHERE weight_id = OLD.id AND status = 'signed') THEN
        RAISE EXCEPTION USING
            MESSAGE = 'weight ' || OLD.id || ' was recorded in a signed consultation', ERRCODE = '23000';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER weight_signed_frozen BEFORE UPDATE OR DELETE ON animals_weight
FOR EACH ROW EXECUTE FUNCTION clinical_weight_frozen();
"""

PG_BACKWARD = """
DROP TRIGGER IF EXISTS weight_signed_frozen ON animals_weight;
DROP FUNCTION IF EXISTS clinical_weight_frozen();
DROP TRIGGER IF EXISTS addendum_frozen ON clinical_addendum;
DROP FUNCTION IF EXISTS clinical_addendum_frozen();
DROP TRIGGER IF EXISTS prescription_frozen ON clinical_prescription;
DROP TRIGGER IF EXISTS vaccination_frozen ON clinical_vaccination;
DROP TRIGGER IF EXISTS consultationdiagnosis_frozen ON clinical_consultationdiagnosis;
DROP FUNCTION IF EXISTS clinical_child_frozen();
DROP TRIGGER IF EXISTS consultation_frozen ON clinical_consultation;
DROP FUNCTION IF EXISTS clinical_consultation_frozen();
"""

# The columns whose change after signing is refused on SQLite (everything but the id and the invoice line).
CHILD_COLUMNS = {
    "clinical_consultationdiagnosis": ["consultation_id", "diagnosis_id", "certainty", "position"],
    "clinical_vaccination": [
        "animal_id",
        "consultation_id",
        "product_id",
        "manufacturer",
        "batch",
        "batch_expiry",
        "route",
        "site",
        "given_on",
        "given_by_id",
        "supervising_vet_id",
        "next_due_on",
        "created_at",
    ],
    "clinical_prescription": [
        "animal_id",
        "consultation_id",
        "product_id",
        "strength",
        "dose",
        "route",
        "frequency",
        "duration",
        "quantity",
        "instructions",
        "repeats",
        "prescribed_by_id",
        "dispensed_by_id",
        "dispensed_on",
        "repeat_of_id",
        "created_at",
    ],
}


def _signed(ref: str) -> str:
    return f"(SELECT status FROM clinical_consultation WHERE id = {ref}) = 'signed'"


SQLITE_FORWARD = [
    """
    CREATE TRIGGER consultation_frozen BEFORE UPDATE ON clinical_consultation
    WHEN OLD.status = 'signed'
    BEGIN SELECT RAISE(ABORT, 'consultation is signed: a permanent record'); END
    """,
    """
    CREATE TRIGGER addendum_frozen BEFORE UPDATE ON clinical_addendum
    BEGIN SELECT RAISE(ABORT, 'an addendum is a permanent record'); END
    """,
    """
    CREATE TRIGGER weight_signed_frozen BEFORE UPDATE ON animals_weight
    WHEN EXISTS (SELECT 1 FROM clinical_consultation WHERE weight_id = OLD.id AND status = 'signed')
    BEGIN SELECT RAISE(ABORT, 'weight was recorded in a signed consultation'); END
    """,
]
for _table, _columns in CHILD_COLUMNS.items():
    _changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in _columns)
    SQLITE_FORWARD += [
        f"""
        CREATE TRIGGER {_table}_frozen_insert BEFORE INSERT ON {_table}
        WHEN {_signed("NEW.consultation_id")}
        BEGIN SELECT RAISE(ABORT, '{_table}: the consultation is signed'); END
        """,
        f"""
        CREATE TRIGGER {_table}_frozen_update BEFORE UPDATE ON {_table}
        WHEN ({_signed("OLD.consultation_id")} OR {_signed("NEW.consultation_id")}) AND ({_changed})
        BEGIN SELECT RAISE(ABORT, '{_table}: belongs to a signed consultation'); END
        """,
    ]

SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS consultation_frozen",
    "DROP TRIGGER IF EXISTS addendum_frozen",
    "DROP TRIGGER IF EXISTS weight_signed_frozen",
] + [f"DROP TRIGGER IF EXISTS {t}_frozen_{op}" for t in CHILD_COLUMNS for op in ("insert", "update")]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD)
    elif vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD)
    elif vendor == "sqlite":
        for statement in SQLITE_BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("clinical", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
