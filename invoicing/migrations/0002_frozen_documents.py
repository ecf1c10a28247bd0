"""Issued documents are frozen in the database itself, not only in the models.

An UPDATE of an issued invoice's numbers, totals, dates or snapshots, and any INSERT/UPDATE of the lines of an
issued document, is refused by a trigger (and on PostgreSQL also a DELETE). The only change an issued invoice
accepts is finalised -> void. SQLite gets no DELETE triggers: Django's test flush empties tables with DELETE in
an order it chooses; there the model guard and the PROTECT foreign keys refuse deletions.
"""

from django.db import migrations

FROZEN_COLUMNS = [
    "kind",
    "client_id",
    "series",
    "number",
    "issue_date",
    "credits_id",
    "client_name",
    "client_address",
    "net_total",
    "tax_total",
    "gross_total",
    "finalised_at",
]

PG_FORWARD = f"""
CREATE OR REPLACE FUNCTION invoicing_invoice_frozen() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status <> 'draft' THEN
            RAISE EXCEPTION USING MESSAGE = 'issued document ' || OLD.id || ' cannot be deleted', ERRCODE = '23000';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status <> 'draft' AND (
        NEW.status = 'draft' OR (OLD.status = 'void' AND NEW.status <> 'void')
        {"".join(f" OR NEW.{c} IS DISTINCT FROM OLD.{c}" for c in FROZEN_COLUMNS)}
    ) THEN
        RAISE EXCEPTION USING MESSAGE = 'issued document ' || OLD.id || ' is frozen', ERRCODE = '23000';
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER invoice_frozen BEFORE UPDATE OR DELETE ON invoicing_invoice
FOR EACH ROW EXECUTE FUNCTION invoicing_invoice_frozen();

CREATE OR REPLACE FUNCTION invoicing_line_frozen() RETURNS trigger AS $$
DECLARE
    doc_status text;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT status INTO doc_status FROM invoicing_invoice WHERE id = NEW.invoice_id;
    ELSE
        SELECT status INTO doc_status FROM invoicing_invoice WHERE id = OLD.invoice_id;
    END IF;
    IF doc_status IS NOT NULL AND doc_status <> 'draft' THEN
        RAISE EXCEPTION 'lines of an issued document are frozen' USING ERRCODE = '23000';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER invoiceline_frozen BEFORE INSERT OR UPDATE OR DELETE ON invoicing_invoiceline
FOR EACH ROW EXECUTE FUNCTION invoicing_line_frozen();
"""

PG_BACKWARD = """
DROP TRIGGER IF EXISTS invoiceline_frozen ON invoicing_invoiceline;
DROP FUNCTION IF EXISTS invoicing_line_frozen();
DROP TRIGGER IF EXISTS invoice_frozen ON invoicing_invoice;
DROP FUNCTION IF EXISTS invoicing_invoice_frozen();
"""

SQLITE_FORWARD = [
    f"""
    CREATE TRIGGER invoice_frozen BEFORE UPDATE ON invoicing_invoice
    WHEN OLD.status <> 'draft' AND (
        NEW.status = 'draft' OR (OLD.status = 'void' AND NEW.status <> 'void')
        {"".join(f" OR NEW.{c} IS NOT OLD.{c}" for c in FROZEN_COLUMNS)}
    )
    BEGIN SELECT RAISE(ABORT, 'issued document is frozen'); END
    """,
    """
    CREATE TRIGGER invoiceline_frozen_insert BEFORE INSERT ON invoicing_invoiceline
    WHEN (SELECT status FROM invoicing_invoice WHERE id = NEW.invoice_id) <> 'draft'
    BEGIN SELECT RAISE(ABORT, 'lines of an issued document are frozen'); END
    """,
    """
    CREATE TRIGGER invoiceline_frozen_update BEFORE UPDATE ON invoicing_invoiceline
    WHEN (SELECT status FROM invoicing_invoice WHERE id = OLD.invoice_id) <> 'draft'
    BEGIN SELECT RAISE(ABORT, 'lines of an issued document are frozen'); END
    """,
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS invoice_frozen",
    "DROP TRIGGER IF EXISTS invoiceline_frozen_insert",
    "DROP TRIGGER IF EXISTS invoiceline_frozen_update",
]


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
    dependencies = [("invoicing", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
