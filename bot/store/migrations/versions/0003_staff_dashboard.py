"""Staff dashboard: accounts, sessions, audit log (append-only), notes, conversation summary.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_user",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("email", sa.String(254), nullable=False, unique=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "staff_session",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("staff_user.id", ondelete="CASCADE"), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_staff_session_user_id", "staff_session", ["user_id"])
    op.create_table(
        "staff_audit",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer()),
        sa.Column("user_email", sa.String(254)),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("target", sa.String(255)),
        sa.Column("detail", sa.Text()),
        sa.Column("ip", sa.String(64)),
    )
    op.create_index("ix_staff_audit_at", "staff_audit", ["at"])
    op.create_index("ix_staff_audit_user_email", "staff_audit", ["user_email"])
    op.create_index("ix_staff_audit_action", "staff_audit", ["action"])
    op.create_table(
        "staff_note",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("sender_id", sa.String(255), nullable=False),
        sa.Column("author", sa.String(254), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_staff_note_sender_id", "staff_note", ["sender_id"])
    op.create_table(
        "conversation",
        sa.Column("sender_id", sa.String(255), primary_key=True),
        sa.Column("channel", sa.String(64)),
        sa.Column("first_at", sa.Float()),
        sa.Column("last_at", sa.Float()),
        sa.Column("n_events", sa.Integer(), nullable=False),
        sa.Column("n_messages", sa.Integer(), nullable=False),
        sa.Column("has_crisis", sa.Boolean(), nullable=False),
        sa.Column("crisis_categories", sa.String(255)),
        sa.Column("last_text", sa.Text()),
        sa.Column("search_text", sa.Text()),
        sa.Column("phase", sa.String(32)),
        sa.Column("focus", sa.String(32)),
        sa.Column("review_status", sa.String(16), nullable=False),
        sa.Column("tags", sa.String(255)),
        sa.Column("reviewed_by", sa.String(254)),
        sa.Column("reviewed_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_conversation_last_at", "conversation", ["last_at"])
    op.create_index("ix_conversation_crisis_last_at", "conversation", ["has_crisis", "last_at"])
    op.create_index("ix_conversation_review_last_at", "conversation", ["review_status", "last_at"])
    op.create_table(
        "staff_sync_state",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("last_event_id", sa.Integer(), nullable=False),
        sa.Column("summarized_events", sa.Integer(), nullable=False),
    )
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER staff_audit_no_{verb.lower()} BEFORE {verb} ON staff_audit "
                "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
            )
    elif bind.dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION staff_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER staff_audit_append_only BEFORE UPDATE OR DELETE ON staff_audit "
            "FOR EACH ROW EXECUTE FUNCTION staff_audit_append_only()"
        )
        # Trigram index for the text search, when the pg_trgm extension can be created here.
        savepoint = bind.begin_nested()
        try:
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            bind.exec_driver_sql(
                "CREATE INDEX ix_conversation_search_trgm ON conversation USING gin (search_text gin_trgm_ops)")
            savepoint.commit()
        except Exception:  # noqa: BLE001 - without the extension the search scans the summary
            savepoint.rollback()


def downgrade() -> None:
    bind = op.get_bind()
    op.drop_table("staff_sync_state")
    op.drop_table("conversation")
    op.drop_table("staff_note")
    op.drop_table("staff_audit")
    if bind.dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS staff_audit_append_only()")
    op.drop_table("staff_session")
    op.drop_table("staff_user")
