"""Deletion that deletes (issue 14): the audit log stays append-only, except that an entry's target
may be replaced by the keyed hash of an erased conversation (bot/store/erasure.py: 'erased-...').
No other column may change, and no row may be deleted.

Revision ID: 0008
Revises: 0007
"""
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

MESSAGE = "the audit log is append-only"
SQLITE_SAME = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in ("id", "at", "user_id", "user_email", "action",
                                                            "detail", "ip"))
PG_SAME = " AND ".join(f"NEW.{c} IS NOT DISTINCT FROM OLD.{c}" for c in ("id", "at", "user_id", "user_email",
                                                                          "action", "detail", "ip"))


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS staff_audit_no_update")
        op.execute(
            "CREATE TRIGGER staff_audit_no_update BEFORE UPDATE ON staff_audit "
            f"WHEN NOT (COALESCE(NEW.target, '') LIKE 'erased-%' AND {SQLITE_SAME}) "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        )
    elif bind.dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION staff_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF TG_OP = 'UPDATE' AND COALESCE(NEW.target, '') LIKE 'erased-%' AND {PG_SAME} THEN RETURN NEW; END IF; "
            f"RAISE EXCEPTION '{MESSAGE}'; END $$"
        )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS staff_audit_no_update")
        op.execute("CREATE TRIGGER staff_audit_no_update BEFORE UPDATE ON staff_audit "
                   f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END")
    elif bind.dialect.name == "postgresql":
        op.execute("CREATE OR REPLACE FUNCTION staff_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
                   f"$$ BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$")
