"""rate_limits: login throttling and command cooldowns shared by every API worker

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
        "rate_limits",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("last_s", sa.Float(), nullable=False),
        sa.Column("until_s", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_rate_limits_last_s", "rate_limits", ["last_s"])


def downgrade() -> None:
    op.drop_index("ix_rate_limits_last_s", table_name="rate_limits")
    op.drop_table("rate_limits")
