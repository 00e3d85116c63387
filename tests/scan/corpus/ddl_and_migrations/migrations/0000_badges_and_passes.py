"""badges and passes, before members had them; 0002 drops badges, 0003 drops passes and makes them anew

Revision ID: 0000
"""

import sqlalchemy as sa
from alembic import op

revision = "0000"
down_revision = None


def upgrade():
    op.create_table(
        "badges",  # dropped by 0002: the app's schema has no such table any more
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("owner_id", sa.Integer),  # ok: PL202
        sa.Column("balance", sa.Integer, nullable=False),  # ok: PL203
    )
    op.create_table(
        "passes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("label", sa.String(40)),
    )


def downgrade():
    op.drop_table("passes")
    op.drop_table("badges")
