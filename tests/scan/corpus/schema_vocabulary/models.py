"""Column and table names seen in real shops and votes: prefixed tables, *_net money, people-like tables."""

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import declared_attr

db = SQLAlchemy()


class LowerNameMixin:
    """Tables are named after the class: Voter -> voter, Member -> member, Csr -> csr."""

    @declared_attr
    def __tablename__(cls):
        return cls.__name__.lower()


class ShopUser(db.Model):
    __tablename__ = "shop_user"
    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(254), unique=True, nullable=False)  # ok: PL201


class ShopAddress(db.Model):
    __tablename__ = "shop_address"
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, nullable=False)  # expect: PL204
    city = db.Column(db.String(80), nullable=False)


class ShopOrder(db.Model):
    __tablename__ = "shop_order"
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("shop_user.id"), nullable=False)  # ok: PL202, PL204
    address_id = db.Column(db.Integer, nullable=False)  # expect: PL204
    total_net = db.Column(db.Numeric(10, 2), nullable=False)  # expect: PL203
    total_gross = db.Column(db.Numeric(10, 2), db.CheckConstraint("total_gross >= 0"), nullable=False)  # ok: PL203
    status = db.Column(db.String(16), nullable=False, default="new")  # ok: PL203


class ShopOrderLine(db.Model):
    __tablename__ = "shop_order_line"
    id = db.Column(db.Integer, primary_key=True)
    order_id = db.Column(db.Integer, db.ForeignKey("shop_order.id"), nullable=False)
    quantity = db.Column(db.Integer, nullable=False)  # expect: PL203
    unit_price_net = db.Column(db.Numeric(10, 2), nullable=False)  # expect: PL203


class ShopVariant(db.Model):
    __tablename__ = "shop_variant"
    id = db.Column(db.Integer, primary_key=True)
    sku = db.Column(db.String(32), unique=True, nullable=False)  # ok: PL201, PL202
    quantity_allocated = db.Column(db.Integer, nullable=False, default=0)  # expect: PL203


class ShopVoucher(db.Model):
    __tablename__ = "shop_voucher"
    id = db.Column(db.Integer, primary_key=True)
    code = db.Column(db.String(16), unique=True, nullable=False)
    usage_limit = db.Column(db.Integer)  # expect: PL203
    used = db.Column(db.Integer, db.CheckConstraint("used >= 0"), nullable=False, default=0)


class Voter(LowerNameMixin, db.Model):
    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(254), nullable=False)  # expect: PL201


class Member(LowerNameMixin, db.Model):
    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(254), nullable=False)  # expect: PL201
    cash = db.Column(db.Numeric(10, 2), nullable=False, default=0)  # expect: PL203
    shares = db.Column(db.Integer, nullable=False, default=0)  # expect: PL203


class Csr(LowerNameMixin, db.Model):
    id = db.Column(db.Integer, primary_key=True)
    username = db.Column(db.String(40), nullable=False)  # expect: PL201  # known-miss: csr (customer service representative) is not a people-like table name, so its username is taken for a display name


class Ballot(LowerNameMixin, db.Model):
    id = db.Column(db.Integer, primary_key=True)
    voter_id = db.Column(db.Integer, db.ForeignKey("voter.id"), nullable=False)  # ok: PL204
    member_id = db.Column(db.Integer, nullable=False)  # expect: PL204
