"""Blog models, classic SQLAlchemy 1.x declarative style."""

from sqlalchemy import Column, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint, create_engine, func
from sqlalchemy.orm import declarative_base, relationship, scoped_session, sessionmaker

engine = create_engine("postgresql://blog@localhost/blog")
db_session = scoped_session(sessionmaker(bind=engine))
Base = declarative_base()
Base.query = db_session.query_property()


class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
    username = Column(String(50), unique=True, nullable=False)  # ok: PL201, PL202
    email = Column(String(120))  # expect: PL201, PL202
    bio = Column(Text)


class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (UniqueConstraint("author_id", "slug"),)
    id = Column(Integer, primary_key=True)
    author_id = Column(Integer, ForeignKey("users.id"), nullable=False)  # ok: PL202, PL204
    slug = Column(String(200), nullable=False)  # ok: PL201
    title = Column(String(200), nullable=False)
    body = Column(Text, nullable=False)
    edit_count = Column(Integer, nullable=False, default=0)
    version_id = Column(Integer, nullable=False)
    created_at = Column(DateTime, server_default=func.now())
    author = relationship("User")
    __mapper_args__ = {"version_id_col": version_id}


class Comment(Base):
    __tablename__ = "comments"
    id = Column(Integer, primary_key=True)
    post_id = Column(Integer, nullable=False)  # expect: PL204
    user_id = Column(Integer, ForeignKey("users.id"), nullable=False)
    body = Column(Text, nullable=False)


class Tag(Base):
    __tablename__ = "tags"
    id = Column(Integer, primary_key=True)
    post_id = Column(Integer, ForeignKey("posts.id"), nullable=False)
    name = Column(String(40), nullable=False)


class Wallet(Base):
    """Credits a member spends to promote posts."""

    __tablename__ = "wallets"
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("users.id"), nullable=False, unique=True)
    credits = Column(Integer, nullable=False)  # expect: PL203
