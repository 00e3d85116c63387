"""Boards of a multi-tenant app: every row belongs to an organisation; boards also have an owner inside it."""

from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


class OrgMixin:
    @classmethod
    def get_by_id_and_org(cls, object_id, org):
        return cls.query.filter(cls.id == object_id, cls.org == org).one()


class Organization(db.Model):
    __tablename__ = "organizations"
    id = db.Column(db.Integer, primary_key=True)
    slug = db.Column(db.String(40), unique=True, nullable=False)


class User(db.Model, OrgMixin):
    __tablename__ = "users"
    id = db.Column(db.Integer, primary_key=True)
    org_id = db.Column(db.Integer, db.ForeignKey("organizations.id"), nullable=False)
    email = db.Column(db.String(254), unique=True, nullable=False)


class Board(db.Model, OrgMixin):
    __tablename__ = "boards"
    id = db.Column(db.Integer, primary_key=True)
    org_id = db.Column(db.Integer, db.ForeignKey("organizations.id"), nullable=False)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    name = db.Column(db.String(80))
    is_archived = db.Column(db.Boolean, nullable=False, default=False)
