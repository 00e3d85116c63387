"""Wallets and vouchers: SQLAlchemy 2.0 models shared by the Flask-RESTful and flask-smorest resources."""

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)


class Wallet(Base):
    __tablename__ = "wallets"
    __table_args__ = (CheckConstraint("credits >= 0"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    credits: Mapped[int]


class Voucher(Base):
    __tablename__ = "vouchers"
    __table_args__ = (UniqueConstraint("code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32))
    uses_left: Mapped[int]  # expect: PL203
