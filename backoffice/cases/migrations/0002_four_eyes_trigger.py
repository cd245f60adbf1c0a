"""Four eyes in the database too: a maker's approval or release can never be stored.

The services refuse it first (``sod.self_approval``); this trigger catches any path that
bypasses them (a bug, a script, the shell) on PostgreSQL and SQLite alike.
"""

from django.db import migrations

PG_FORWARD = """
CREATE FUNCTION cases_refuse_maker_check() RETURNS trigger AS $$
BEGIN
  IF NEW.kind IN ('approved', 'released', 'rejected', 'returned') AND EXISTS (
      SELECT 1 FROM cases_case c JOIN auth_user u ON u.id = c.maker_id
      WHERE c.id = NEW.case_id AND u.username IN (NEW.actor, NEW.on_behalf_of)) THEN
    RAISE EXCEPTION 'four eyes: the maker of case % cannot %', NEW.case_id, NEW.kind;
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER cases_caseevent_four_eyes BEFORE INSERT ON cases_caseevent
  FOR EACH ROW EXECUTE FUNCTION cases_refuse_maker_check();
"""
PG_REVERSE = """
DROP TRIGGER IF EXISTS cases_caseevent_four_eyes ON cases_caseevent;
DROP FUNCTION IF EXISTS cases_refuse_maker_check();
"""
SQLITE_FORWARD = """
CREATE TRIGGER cases_caseevent_four_eyes BEFORE INSERT ON cases_caseevent
WHEN NEW.kind IN ('approved', 'released', 'rejected', 'returned') AND EXISTS (
    SELECT 1 FROM cases_case c JOIN auth_user u ON u.id = c.maker_id
    WHERE c.id = NEW.case_id AND u.username IN (NEW.actor, NEW.on_behalf_of))
BEGIN
  SELECT RAISE(ABORT, 'four eyes: the maker of a case cannot check it');
END;
"""
SQLITE_REVERSE = "DROP TRIGGER IF EXISTS cases_caseevent_four_eyes;"


def forward(apps, schema_editor):
    sql = PG_FORWARD if schema_editor.connection.vendor == "postgresql" else SQLITE_FORWARD
    schema_editor.execute(sql, params=None)


def reverse(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in PG_REVERSE.strip().splitlines():
            schema_editor.execute(statement, params=None)
    else:
        schema_editor.execute(SQLITE_REVERSE, params=None)


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(forward, reverse)]
