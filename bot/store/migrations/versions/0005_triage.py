"""Safety triage: one open hand-off per conversation (priority, person says safe), review flags.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("handoff") as batch:
        batch.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("last_message_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("person_safe_at", sa.DateTime(timezone=True)))
    op.create_table(
        "review_flag",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("sender_id", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True)),
        sa.Column("reviewed_by", sa.String(120)),
    )
    op.create_index("ix_review_flag_sender_id", "review_flag", ["sender_id"])


def downgrade() -> None:
    op.drop_index("ix_review_flag_sender_id", table_name="review_flag")
    op.drop_table("review_flag")
    with op.batch_alter_table("handoff") as batch:
        batch.drop_column("person_safe_at")
        batch.drop_column("last_message_at")
        batch.drop_column("priority")
