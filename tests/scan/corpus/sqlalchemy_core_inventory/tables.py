"""Inventory tables, SQLAlchemy Core."""

from sqlalchemy import CheckConstraint, Column, ForeignKey, Integer, MetaData, Numeric, String, Table, UniqueConstraint

metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),  # ok: PL201
    Column("email", String(255), nullable=False),  # expect: PL201
)

warehouses = Table(
    "warehouses",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(16), nullable=False, unique=True),
    Column("manager_id", Integer, ForeignKey("users.id"), nullable=False),
)

items = Table(
    "items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sku", String(32), nullable=False),  # ok: PL201
    Column("warehouse_id", Integer, ForeignKey("warehouses.id"), nullable=False),  # ok: PL204
    Column("on_hand", Integer, nullable=False),  # expect: PL203
    Column("unit_price", Numeric(10, 2), nullable=False),  # ok: PL203
    UniqueConstraint("sku", name="items_sku_key"),
    CheckConstraint("unit_price >= 0", name="items_price_positive"),
)

reservations = Table(
    "reservations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", Integer, nullable=False),  # expect: PL204
    Column("user_id", Integer, ForeignKey("users.id")),  # expect: PL202
    Column("external_ref", String(64), nullable=False),  # expect: PL201
    Column("qty", Integer, nullable=False),  # ok: PL203
    CheckConstraint("qty > 0", name="reservations_qty_positive"),
)
