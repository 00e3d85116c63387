"""A toy brokerage: tables are named by the mixin (trader, holding, fill) from the class names."""

from database import Model, db


class Trader(Model):
    id = db.Column(db.Integer, primary_key=True)
    login = db.Column(db.String(40), unique=True, nullable=False)  # ok: PL201
    cash = db.Column(db.Numeric(12, 2), nullable=False, default=0)  # expect: PL203

    def spend(self, total):
        if self.cash < total:
            raise ValueError("not enough cash")
        self.cash -= total  # expect: PL102


class Holding(Model):
    id = db.Column(db.Integer, primary_key=True)
    trader_id = db.Column(db.Integer, db.ForeignKey("trader.id"), nullable=False)  # ok: PL202, PL204
    symbol = db.Column(db.String(8), nullable=False)
    shares = db.Column(db.Integer, nullable=False)  # expect: PL203

    @staticmethod
    def find(holding_id):
        return Holding.query.get(holding_id)  # expect: PL105

    @classmethod
    def of_trader(cls, trader_id, holding_id):
        return cls.query.filter_by(id=holding_id, trader_id=trader_id).first()


class Fill(Model):
    id = db.Column(db.Integer, primary_key=True)
    trader_id = db.Column(db.Integer, db.ForeignKey("trader.id"), nullable=False)
    symbol = db.Column(db.String(8), nullable=False)
    unit_price = db.Column(db.Numeric(12, 2), db.CheckConstraint("unit_price > 0"), nullable=False)  # ok: PL203
