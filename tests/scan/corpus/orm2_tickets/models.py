"""Ticketing models, SQLAlchemy 2.0 typed declarative mapping."""

from decimal import Decimal
from typing import Optional

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String, UniqueConstraint, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

engine = create_engine("postgresql+psycopg://tickets@localhost/tickets")


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    handle: Mapped[str] = mapped_column(String(40), unique=True)  # ok: PL201, PL202
    email: Mapped[Optional[str]] = mapped_column(String(255), unique=True)  # expect: PL202
    tickets: Mapped[list["Ticket"]] = relationship(back_populates="owner")


class Concert(Base):
    __tablename__ = "concerts"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    seats_left: Mapped[int]  # expect: PL203
    price: Mapped[Decimal] = mapped_column(Numeric(10, 2), CheckConstraint("price >= 0"))  # ok: PL203


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (UniqueConstraint("concert_id", "seat"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    concert_id: Mapped[int] = mapped_column(ForeignKey("concerts.id"))  # ok: PL202, PL204
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # expect: PL202
    seat: Mapped[str] = mapped_column(String(8))
    barcode: Mapped[str] = mapped_column(String(32), unique=True)
    owner: Mapped[Optional["User"]] = relationship(back_populates="tickets")
