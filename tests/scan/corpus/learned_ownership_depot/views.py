"""Handlers of the depot. Every table's owner is learned from the code: the tests below mark each twin."""

from flask import Flask, abort, request
from flask_login import current_user, login_required

from .models import Case, Clerk, Memo, Order, Parcel, Product, Shelf, User, db
from .models import Case as CaseModel

app = Flask(__name__)


def require_admin_or_owner(owner_id):
    if owner_id != current_user.id:
        abort(403)


@app.get("/parcels")
@login_required
def parcels():
    clerk = Clerk.query.filter_by(username=current_user.username).first()
    return {"parcels": [p.id for p in Parcel.query.filter_by(depot_id=clerk.depot_id).all()]}


@app.get("/parcels/<int:parcel_id>")
@login_required
def parcel(parcel_id):
    clerk = Clerk.query.filter_by(username=current_user.username).first()
    found = Parcel.query.filter_by(id=parcel_id, depot_id=clerk.depot_id).first_or_404()  # ok: PL105
    return {"id": found.id}


@app.post("/parcels/<int:parcel_id>/release")
@login_required
def release(parcel_id):
    found = Parcel.query.get(parcel_id)  # expect: PL105
    found.released = True
    db.session.commit()
    return "", 204


@app.get("/orders/<token>")
@login_required
def order(token):
    found = Order.query.filter_by(token=token).first()  # ok: PL105
    if not found.is_mine:
        abort(403)
    return {"status": found.status}


@app.post("/orders/<token>/receive")
@login_required
def receive(token):
    found = Order.query.filter_by(token=token).first()  # expect: PL105
    found.status = "received"
    db.session.commit()
    return "", 204


@app.get("/cases/<int:case_id>")
@login_required
def case(case_id):
    found = Case.query.get(case_id)  # ok: PL105
    if found.created_user != current_user.username:
        abort(403)
    return {"summary": found.summary}


@app.get("/cases/<int:case_id>/export")
@login_required
def export_case(case_id):
    found = CaseModel.query.filter(CaseModel.id == case_id).first()  # expect: PL105
    return {"summary": found.summary}


@app.put("/shelves/<int:shelf_id>")
@login_required
def relabel_shelf(shelf_id):
    shelf = Shelf.get_by_id(shelf_id)
    if shelf.keeper != current_user.username:
        abort(403)
    shelf.label = request.json["label"]
    db.session.commit()
    return "", 204


@app.delete("/shelves/<int:shelf_id>")
@login_required
def clear_shelf(shelf_id):
    shelf = Shelf.get_by_id(shelf_id)
    shelf.label = None
    db.session.commit()
    return "", 204


@app.put("/memos/<int:memo_id>")
@login_required
def edit_memo(memo_id):
    memo = Memo.query.get_or_404(memo_id)  # ok: PL105
    require_admin_or_owner(memo.user_id)
    memo.body = request.json["body"]
    db.session.commit()
    return "", 204


@app.get("/products/<int:product_id>")
@login_required
def product(product_id):
    return {"name": Product.query.get_or_404(product_id).name}  # ok: PL105


@app.post("/follow/<username>")
@login_required
def follow(username):
    other = User.query.filter_by(username=username).first_or_404()
    if other == current_user:
        abort(400)
    return "", 204


@app.get("/users/<int:user_id>")
@login_required
def profile(user_id):
    return {"name": User.query.get_or_404(user_id).username}  # ok: PL105
