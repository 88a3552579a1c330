"""Staff sign-in through the clinic's identity provider and per-user API tokens (issue 15).

`staff_user.oidc_subject`: the identity provider's `sub` of the account, bound at its first OpenID
Connect sign-in (later sign-ins must come from the same subject). `staff_api_token`: named bearer
tokens of the staff API, one user's each; only the SHA-256 of a token is stored.

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff_user") as batch:
        batch.add_column(sa.Column("oidc_subject", sa.String(255)))
    op.create_table(
        "staff_api_token",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("staff_user.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_staff_api_token_user_id", "staff_api_token", ["user_id"])
    op.create_index("ix_staff_api_token_token_hash", "staff_api_token", ["token_hash"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_staff_api_token_token_hash", table_name="staff_api_token")
    op.drop_index("ix_staff_api_token_user_id", table_name="staff_api_token")
    op.drop_table("staff_api_token")
    with op.batch_alter_table("staff_user") as batch:
        batch.drop_column("oidc_subject")
