"""Ballots keep every vote cast on them, oldest first."""

from sqlalchemy import Column, Integer, Text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import DeclarativeBase, scoped_session, sessionmaker


class Base(DeclarativeBase):
    pass


class Ballot(Base):
    __tablename__ = "ballots"
    id = Column(Integer, primary_key=True)
    uuid = Column(Text, unique=True, nullable=False)
    votes = Column(ARRAY(Text), nullable=False, default=list)
    spoilt = Column(Integer, nullable=False, default=0)


session = scoped_session(sessionmaker())


def get_by_uuid(cls, uuid):
    return session.query(cls).filter_by(uuid=uuid).first()


def get_by_uuid_locked(cls, uuid):
    return session.query(cls).filter_by(uuid=uuid).with_for_update().first()
