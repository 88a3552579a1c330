"""The guided journey: journey, its inventory people and its mood check-ins.

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "journey",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("sender_id", sa.String(255), nullable=False, unique=True),
        sa.Column("display_name", sa.String(80)),
        sa.Column("phase", sa.String(16), nullable=False),
        sa.Column("activity", sa.String(32)),
        sa.Column("step", sa.String(40)),
        sa.Column("retries", sa.Integer(), nullable=False),
        sa.Column("draft", sa.Text(), nullable=False),
        sa.Column("paused", sa.Text()),
        sa.Column("done", sa.Text(), nullable=False),
        sa.Column("screening", sa.Text(), nullable=False),
        sa.Column("focus", sa.String(32)),
        sa.Column("second_focus", sa.String(32)),
        sa.Column("dispute_stage", sa.String(16)),
        sa.Column("formulation", sa.Text()),
        sa.Column("goals", sa.Text(), nullable=False),
        sa.Column("ending", sa.Text(), nullable=False),
        sa.Column("weeks_planned", sa.Integer(), nullable=False),
        sa.Column("week", sa.Integer(), nullable=False),
        sa.Column("phase_dates", sa.Text(), nullable=False),
        sa.Column("image_token", sa.String(64), unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_journey_phase", "journey", ["phase"])
    op.create_index("ix_journey_focus", "journey", ["focus"])
    op.create_table(
        "journey_person",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("journey_id", sa.Integer(), sa.ForeignKey("journey.id", ondelete="CASCADE"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("relationship", sa.Text()),
        sa.Column("closeness", sa.String(16)),
        sa.Column("contact", sa.Text()),
        sa.Column("good", sa.Text()),
        sa.Column("hard", sa.Text()),
        sa.Column("change", sa.Text()),
        sa.Column("supported", sa.String(16)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_journey_person_journey_id", "journey_person", ["journey_id"])
    op.create_table(
        "journey_checkin",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("journey_id", sa.Integer(), sa.ForeignKey("journey.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("week", sa.Integer(), nullable=False),
        sa.Column("mood", sa.Integer()),
        sa.Column("phq9", sa.Text()),
        sa.Column("phq9_total", sa.Integer()),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_journey_checkin_journey_id", "journey_checkin", ["journey_id"])


def downgrade() -> None:
    op.drop_table("journey_checkin")
    op.drop_table("journey_person")
    op.drop_table("journey")
