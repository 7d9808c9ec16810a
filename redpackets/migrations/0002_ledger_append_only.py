"""The ledger is append-only: on PostgreSQL a trigger refuses UPDATE and DELETE of its rows, so
no code path (nor a stray shell session) can rewrite history. Other databases rely on the code."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION redpackets_ledger_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'redpackets_ledgerentry is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER redpackets_ledger_append_only
    BEFORE UPDATE OR DELETE ON redpackets_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION redpackets_ledger_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS redpackets_ledger_append_only ON redpackets_ledgerentry;
DROP FUNCTION IF EXISTS redpackets_ledger_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("redpackets", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
