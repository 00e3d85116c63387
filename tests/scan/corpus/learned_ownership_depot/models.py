"""A parcel depot: which rows are whose is said by how the code treats them, not by column names."""

from flask_login import current_user
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


class User(db.Model):
    __tablename__ = "users"
    id = db.Column(db.Integer, primary_key=True)
    username = db.Column(db.String(80), unique=True, nullable=False)


class Clerk(db.Model):
    __tablename__ = "clerks"
    id = db.Column(db.Integer, primary_key=True)
    username = db.Column(db.String(80), unique=True, nullable=False)
    depot_id = db.Column(db.Integer, nullable=False)


class Parcel(db.Model):
    """Each parcel sits in one depot; a clerk may handle the parcels of their own depot only."""
    __tablename__ = "parcels"
    id = db.Column(db.Integer, primary_key=True)
    depot_id = db.Column(db.Integer, nullable=False)
    released = db.Column(db.Boolean, nullable=False, default=False)


class Order(db.Model):
    __tablename__ = "orders"
    id = db.Column(db.Integer, primary_key=True)
    token = db.Column(db.String(64), unique=True, nullable=False)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    status = db.Column(db.String(20), nullable=False)

    @property
    def is_mine(self):
        return self.user_id == current_user.id


class Case(db.Model):
    __tablename__ = "cases"
    id = db.Column(db.Integer, primary_key=True)
    created_user = db.Column(db.String(80), nullable=False)
    summary = db.Column(db.Text)


class Shelf(db.Model):
    __tablename__ = "shelves"
    id = db.Column(db.Integer, primary_key=True)
    keeper = db.Column(db.String(80), nullable=False)
    label = db.Column(db.String(80))

    @classmethod
    def get_by_id(cls, shelf_id):
        return cls.query.filter_by(id=shelf_id).first()  # expect: PL105


class Memo(db.Model):
    __tablename__ = "memos"
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    body = db.Column(db.Text)


class Product(db.Model):
    __tablename__ = "products"
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), nullable=False)
