"""Flask-RESTful resources registered with api.add_resource, and flask-smorest MethodViews on a blueprint."""

from flask import Flask, request
from flask.views import MethodView
from flask_jwt_extended import get_jwt_identity, jwt_required
from flask_restful import Api, Resource, abort
from flask_smorest import Blueprint
from sqlalchemy import select, update

from models import Voucher, Wallet
from session import Session

app = Flask(__name__)
api = Api(app)
blp = Blueprint("vouchers", __name__, url_prefix="/vouchers")


class WalletResource(Resource):
    method_decorators = [jwt_required()]

    def get(self, wallet_id):
        with Session() as session:
            wallet = session.get(Wallet, wallet_id)  # expect: PL105
            return {"id": wallet.id, "credits": wallet.credits}

    def delete(self, wallet_id):
        with Session() as session:
            wallet = session.scalars(select(Wallet).where(Wallet.id == wallet_id,  # ok: PL105
                                                          Wallet.owner_id == get_jwt_identity())).first()
            if wallet is None:
                abort(404)
            session.delete(wallet)
            session.commit()
            return "", 204


class WalletSpend(Resource):
    method_decorators = [jwt_required()]

    def post(self, wallet_id):
        amount = int(request.json["amount"])
        with Session() as session:
            wallet = session.get(Wallet, wallet_id)
            if wallet is None or wallet.owner_id != get_jwt_identity():
                abort(404)
            wallet.credits -= amount  # expect: PL102
            session.commit()
            return {"credits": wallet.credits}


class WalletTopUp(Resource):
    method_decorators = [jwt_required()]

    def post(self, wallet_id):
        amount = int(request.json["amount"])
        with Session() as session:
            session.execute(  # ok: PL102
                update(Wallet).where(Wallet.id == wallet_id, Wallet.owner_id == get_jwt_identity())
                .values(credits=Wallet.credits + amount)
            )
            session.commit()
            return "", 204


api.add_resource(WalletResource, "/wallets/<int:wallet_id>")
api.add_resource(WalletSpend, "/wallets/<int:wallet_id>/spend")
api.add_resource(WalletTopUp, "/wallets/<int:wallet_id>/top-up")


@blp.route("/<code>/redeem")
class VoucherRedeem(MethodView):
    @jwt_required()
    def post(self, code):
        with Session() as session:
            voucher = session.scalars(select(Voucher).where(Voucher.code == code)).first()
            if voucher is None or voucher.uses_left <= 0:
                abort(409)
            voucher.uses_left = voucher.uses_left - 1  # expect: PL102
            session.commit()
            return {"uses_left": voucher.uses_left}


@blp.route("/<code>/redeem-safely")
class VoucherRedeemSafely(MethodView):
    @jwt_required()
    def post(self, code):
        with Session() as session:
            voucher = session.scalars(
                select(Voucher).where(Voucher.code == code).with_for_update()
            ).first()
            if voucher is None or voucher.uses_left <= 0:
                abort(409)
            voucher.uses_left = voucher.uses_left - 1  # ok: PL102
            session.commit()
            return {"uses_left": voucher.uses_left}


@blp.route("/search")
class VoucherSearch(MethodView):
    @jwt_required()
    def get(self):
        prefix = request.args.get("prefix", "")
        with Session() as session:
            rows = session.execute(f"SELECT code FROM vouchers WHERE code LIKE '{prefix}%'")  # expect: PL101
            return {"codes": [row[0] for row in rows]}
