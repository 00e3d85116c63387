"""The club's models."""

from flask_login import current_user
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.dialects.postgresql import ARRAY

db = SQLAlchemy()


class Member(db.Model):
    __tablename__ = "members"
    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(120), unique=True, nullable=False)
    credits = db.Column(db.Integer, db.CheckConstraint("credits >= 0"), nullable=False, default=0)
    badges = db.relationship("Badge", lazy=True)


class Badge(db.Model):
    __tablename__ = "badges"
    id = db.Column(db.Integer, primary_key=True)
    member_id = db.Column(db.Integer, db.ForeignKey("members.id"), nullable=False)
    kind = db.Column(db.String(20), nullable=False)
    level = db.Column(db.Integer, nullable=False, default=1)
    note = db.Column(db.Text)


class Locker(db.Model):
    __tablename__ = "lockers"
    id = db.Column(db.Integer, primary_key=True)
    member_id = db.Column(db.Integer, db.ForeignKey("members.id"), unique=True, nullable=False)
    items = db.Column(db.Integer, nullable=False, default=0)

    @classmethod
    def get_by_member(cls, member_id):
        return cls.query.filter_by(member_id=member_id).first()

    @classmethod
    def get_current_user_locker(cls):
        return cls.get_by_member(current_user.id)


class Towel(db.Model):
    __tablename__ = "towels"
    id = db.Column(db.Integer, primary_key=True)
    stock = db.Column(db.Integer, db.CheckConstraint("stock >= 0"), nullable=False)


class Rental(db.Model):
    __tablename__ = "rentals"
    id = db.Column(db.Integer, primary_key=True)
    member_id = db.Column(db.Integer, db.ForeignKey("members.id"), nullable=False)
    returned = db.Column(db.Boolean, nullable=False, default=False)
    towels = db.Column(db.Integer, nullable=False, default=0)

    def __iter__(self):
        return iter(self.lines)

    def recount(self):
        self.towels = sum(line.count for line in self)  # ok: PL102 (from its lines, not from its own towels)

    @property
    def lines(self):
        return RentalLine.query.filter_by(rental_id=self.id).all()

    @property
    def label(self):
        return f"rental {self.id}"


class RentalLine(db.Model):
    __tablename__ = "rental_lines"
    id = db.Column(db.Integer, primary_key=True)
    rental_id = db.Column(db.Integer, db.ForeignKey("rentals.id"), nullable=False)
    towel_id = db.Column(db.Integer, db.ForeignKey("towels.id"), nullable=False)
    count = db.Column(db.Integer, nullable=False)

    @property
    def towel(self):
        return Towel.query.get(self.towel_id)


class Invite(db.Model):
    __tablename__ = "invites"
    id = db.Column(db.Integer, primary_key=True)
    code = db.Column(db.String(32), unique=True, nullable=False)
    created_by = db.Column(db.Integer, db.ForeignKey("members.id"), nullable=False)


class Court(db.Model):
    __tablename__ = "courts"
    id = db.Column(db.Integer, primary_key=True)
    bookings = db.Column(ARRAY(db.Text), nullable=False, default=list)
    watchers = db.Column(ARRAY(db.Integer), nullable=False, default=list)
