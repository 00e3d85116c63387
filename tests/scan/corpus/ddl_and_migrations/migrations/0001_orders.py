"""orders and their lines

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = "0000"


def upgrade():
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id"), nullable=False),  # ok: PL202, PL204
        sa.Column("amount", sa.Numeric(10, 2), nullable=False),  # ok: PL203
        sa.Column("external_ref", sa.String(64), nullable=False),  # ok: PL201
        sa.Column("subtotal", sa.Numeric(10, 2), nullable=False),  # expect: PL203
        sa.Column("owner_id", sa.Integer),  # expect: PL202
    )
    op.create_check_constraint("orders_amount_positive", "orders", "amount > 0")
    op.create_unique_constraint("orders_external_ref_key", "orders", ["external_ref"])
    op.add_column("wallets", sa.Column("stripe_id", sa.String(64), nullable=False))  # expect: PL201


def downgrade():
    op.drop_table("orders")
