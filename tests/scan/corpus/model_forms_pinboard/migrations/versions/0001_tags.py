"""tags"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade():
    op.create_table(
        "tags",
        sa.Column("tag_id", sa.Integer(), nullable=False),  # ok: PL204
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("tag_id"),
    )
    op.create_table(
        "tag_links",
        sa.Column("tag_id", sa.Integer(), sa.ForeignKey("tags.tag_id"), nullable=False),
        sa.Column("pin_id", sa.Integer(), sa.ForeignKey("pins.id"), nullable=False),
        sa.PrimaryKeyConstraint("tag_id", "pin_id"),
    )
