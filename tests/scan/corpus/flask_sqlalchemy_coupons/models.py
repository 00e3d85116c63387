"""Coupon models, Flask-SQLAlchemy."""

from flask_login import UserMixin
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


class User(UserMixin, db.Model):
    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(255), unique=True, nullable=False)  # ok: PL201, PL202
    referral_code = db.Column(db.String(16))  # expect: PL201, PL202


class Coupon(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    code = db.Column(db.String(32), unique=True, nullable=False)
    owner_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False)  # ok: PL202, PL204
    uses_left = db.Column(db.Integer, nullable=False)  # expect: PL203
    percent_off = db.Column(db.Integer, nullable=False)


class Redemption(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    coupon_id = db.Column(db.Integer, db.ForeignKey("coupon.id"), nullable=False)
    user_id = db.Column(db.Integer, nullable=False)  # expect: PL204
    order_total = db.Column(db.Numeric(10, 2), db.CheckConstraint("order_total >= 0"))  # ok: PL203
