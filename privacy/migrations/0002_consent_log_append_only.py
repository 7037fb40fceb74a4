"""The consent log is append-only at the database level.

PostgreSQL refuses every UPDATE of ``privacy_consentevent``, and every DELETE
unless the account's erasure is in progress (a row for its user in
``privacy_accounterasureinprogress``, written by the erasure service in the
same transaction). SQLite, the laptop default, refuses updates only: its
triggers cannot tell a refused delete from the test runner's flush of every
table, so the delete rule is enforced, and tested, on PostgreSQL.
"""

from django.db import migrations

PG_FORWARD = """
CREATE FUNCTION privacy_consent_log_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND EXISTS (
        SELECT 1 FROM privacy_accounterasureinprogress WHERE user_id = OLD.user_id
    ) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'The consent log is append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER privacy_consent_log_append_only
    BEFORE UPDATE OR DELETE ON privacy_consentevent
    FOR EACH ROW EXECUTE FUNCTION privacy_consent_log_append_only();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS privacy_consent_log_append_only ON privacy_consentevent;
DROP FUNCTION IF EXISTS privacy_consent_log_append_only();
"""
SQLITE_FORWARD = """
CREATE TRIGGER privacy_consent_log_no_update BEFORE UPDATE ON privacy_consentevent
BEGIN
    SELECT RAISE(ABORT, 'The consent log is append-only: UPDATE refused');
END;
"""
SQLITE_BACKWARD = "DROP TRIGGER IF EXISTS privacy_consent_log_no_update;"


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_FORWARD)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("privacy", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
