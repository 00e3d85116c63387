"""passes made anew, with an owner: dropped and created again, the table is there

Revision ID: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade():
    op.execute("DROP TABLE IF EXISTS passes")
    op.create_table(
        "passes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("owner_id", sa.Integer),  # expect: PL202
    )


def downgrade():
    op.drop_table("passes")
