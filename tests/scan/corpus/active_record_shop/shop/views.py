"""Shop views; they are registered on the blueprint in shop/app.py."""

from flask import abort, request
from flask_login import current_user

from shop.models import Basket, BasketLine, Order, OrderEvent


def add_to_basket(product_id):
    basket = Basket.get_by_user(current_user.id)
    basket.quantity += 1  # expect: PL102
    basket.save()
    line = basket.line_for(product_id)
    if line is None:
        BasketLine.create(basket_id=basket.id, product_id=product_id, quantity=1)  # expect: PL106, PL104 (low: UNIQUE holds, the violation is unhandled)
    else:
        line.quantity = line.quantity + 1  # expect: PL102
        line.save()
    return "", 204


def set_status(order_id):
    order = Order.query.filter_by(id=order_id, user_id=current_user.id).first_or_404()
    if request.json.get("cancel"):
        order.update(status="cancelled")  # ok: PL106
    else:
        OrderEvent.create(order_id=order.id, kind="noted")  # ok: PL106
    return "", 204


def place_order():
    order = Order.create(user_id=current_user.id, status="new")
    OrderEvent.create(order_id=order.id, kind="placed")  # expect: PL106
    order.status = "placed"  # ok: PL106
    return {"id": order.id}, 201


def ship_order(order_id):
    order = Order.query.filter_by(id=order_id, user_id=current_user.id).first_or_404()
    order.ship()
    return "", 204


def archive_order(order_id):
    order = Order.query.filter_by(id=order_id, user_id=current_user.id).first_or_404()
    order.archive()
    return "", 204


def any_order(order_id):
    order = Order.get_by_id(order_id)  # ok: PL105
    if order is None:
        abort(404)
    return {"status": order.status}


def remove_line(line_id):
    line = BasketLine.get_by_id(line_id)  # expect: PL105
    line.delete()
    return "", 204


def remove_my_line(line_id):
    basket = Basket.get_by_user(current_user.id)
    line = BasketLine.query.filter_by(id=line_id, basket_id=basket.id).first_or_404()  # ok: PL105
    line.delete()
    return "", 204
