"""The app factory: customer routes on one blueprint, an admin area guarded by a permission hook."""

from flask import Blueprint, Flask, abort
from flask_login import current_user, login_required

from shop import views, wallet
from shop.database import db
from shop.models import Order


def permission_required(name):
    def decorate(view):
        def wrapper(*args, **kwargs):
            if not current_user.can(name):
                abort(403)
            return view(*args, **kwargs)
        return wrapper
    return decorate


def create_app():
    app = Flask(__name__)
    db.init_app(app)

    shop = Blueprint("shop", __name__)
    shop.add_url_rule("/basket/<int:product_id>", view_func=login_required(views.add_to_basket), methods=["POST"])
    shop.add_url_rule("/orders/<int:order_id>/status", view_func=views.set_status, methods=["POST"])
    shop.add_url_rule("/orders", view_func=views.place_order, methods=["POST"])
    shop.add_url_rule("/orders/<int:order_id>/ship", view_func=views.ship_order, methods=["POST"])
    shop.add_url_rule("/orders/<int:order_id>/archive", view_func=views.archive_order, methods=["POST"])
    shop.add_url_rule("/basket/lines/<int:line_id>", view_func=login_required(views.remove_line), methods=["DELETE"])
    shop.add_url_rule("/my/lines/<int:line_id>", view_func=login_required(views.remove_my_line), methods=["DELETE"])

    shop.add_url_rule("/wallet/pay/<int:amount>", view_func=login_required(wallet.pay), methods=["POST"])

    admin = Blueprint("admin", __name__)

    @admin.before_request
    @login_required
    @permission_required("manage-orders")
    def guard():
        pass

    admin.add_url_rule("/admin/orders/<int:order_id>", view_func=views.any_order)

    @app.route("/orders/<int:order_id>/peek")
    @login_required
    def peek(order_id):
        order = Order.query.get(order_id)  # expect: PL105
        return {"status": order.status}

    app.register_blueprint(shop)
    app.register_blueprint(admin)
    return app
