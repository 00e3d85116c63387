"""Scooter rentals on CockroachDB (the pre-2020 `cockroachdb` SQLAlchemy dialect)."""

import uuid

from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, Integer, String
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Rider(Base):
    __tablename__ = "riders"
    id = Column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    email = Column(String, unique=True, nullable=False)


class Scooter(Base):
    __tablename__ = "scooters"
    id = Column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    in_use = Column(Boolean, nullable=False, default=False)
    battery = Column(Integer, CheckConstraint("battery BETWEEN 0 AND 100"), nullable=False)


class Ride(Base):
    __tablename__ = "rides"
    id = Column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    scooter_id = Column(UUID(as_uuid=True), ForeignKey("scooters.id"), nullable=False)
    rider_id = Column(UUID(as_uuid=True), ForeignKey("riders.id"), nullable=False)
    active = Column(Boolean, nullable=False, default=True)
