"""The interpersonal inventory (issue 13, item 3): a person who has died is recorded so, and what each
expects of the other (and whether it is met) is kept per person.

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("journey_person") as batch:
        batch.add_column(sa.Column("expectations", sa.Text()))
        batch.add_column(sa.Column("deceased", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("journey_person") as batch:
        batch.drop_column("deceased")
        batch.drop_column("expectations")
