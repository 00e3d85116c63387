"""Flight booking on CockroachDB: SQLAlchemy with the sqlalchemy-cockroachdb dialect."""

import uuid

from sqlalchemy import CheckConstraint, ForeignKey, String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

engine = create_engine("cockroachdb://root@localhost:26257/flights?sslmode=disable")
SessionLocal = sessionmaker(bind=engine)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(String(255), unique=True)


class Flight(Base):
    __tablename__ = "flights"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    code: Mapped[str] = mapped_column(String(8), unique=True)
    seats_available: Mapped[int] = mapped_column(CheckConstraint("seats_available >= 0"))  # ok: PL203


class Booking(Base):
    __tablename__ = "bookings"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    flight_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("flights.id"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))  # ok: PL202, PL204


class LoyaltyAccount(Base):
    __tablename__ = "loyalty_accounts"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), unique=True)
    points: Mapped[int] = mapped_column(CheckConstraint("points >= 0"))  # ok: PL203
