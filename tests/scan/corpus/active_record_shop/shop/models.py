"""Baskets, their lines, orders and the events of an order."""

from shop.database import Model, db


class Basket(Model):
    __tablename__ = "baskets"
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False, unique=True)
    quantity = db.Column(db.Integer, nullable=False, default=0)  # expect: PL203

    @classmethod
    def get_by_user(cls, user_id):
        return cls.query.filter_by(user_id=user_id).first()

    def line_for(self, product_id):
        return BasketLine.query.filter_by(basket_id=self.id, product_id=product_id).first()


class BasketLine(Model):
    __tablename__ = "basket_lines"
    __table_args__ = (db.UniqueConstraint("basket_id", "product_id"),)
    id = db.Column(db.Integer, primary_key=True)
    basket_id = db.Column(db.Integer, db.ForeignKey("baskets.id"), nullable=False)
    product_id = db.Column(db.Integer, db.ForeignKey("products.id"), nullable=False)
    quantity = db.Column(db.Integer, db.CheckConstraint("quantity > 0"), nullable=False)


class Order(Model):
    __tablename__ = "orders"
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    status = db.Column(db.String(20), nullable=False)

    def ship(self):
        self.status = "shipped"
        db.session.commit()
        OrderEvent.create(order_id=self.id, kind="shipped")  # expect: PL106

    def archive(self):
        self.update(status="archived", commit=False)
        OrderEvent(order_id=self.id, kind="archived").save()  # ok: PL106


class OrderEvent(Model):
    __tablename__ = "order_events"
    id = db.Column(db.Integer, primary_key=True)
    order_id = db.Column(db.Integer, db.ForeignKey("orders.id"), nullable=False)
    kind = db.Column(db.String(20), nullable=False)


class Product(Model):
    __tablename__ = "products"
    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String(80), nullable=False)


class User(Model):
    __tablename__ = "users"
    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(120), unique=True, nullable=False)  # ok: PL201
    credit = db.Column(db.Numeric(10, 2), db.CheckConstraint("credit >= 0"), nullable=False)  # ok: PL203
