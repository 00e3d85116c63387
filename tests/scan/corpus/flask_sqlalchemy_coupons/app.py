"""Coupon service: Flask-SQLAlchemy, db.session, Model.query."""

from flask import Flask, abort, jsonify, request
from flask_login import current_user, login_required
from sqlalchemy.dialects.postgresql import insert

from models import Coupon, Redemption, db

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql://coupons@localhost/coupons"
db.init_app(app)


@app.post("/coupons/<code>/redeem")
@login_required
def redeem(code):
    coupon = Coupon.query.filter_by(code=code).first_or_404()
    if coupon.uses_left <= 0:
        abort(410)
    if Redemption.query.filter_by(coupon_id=coupon.id, user_id=current_user.id).first():
        abort(409)
    coupon.uses_left = coupon.uses_left - 1  # expect: PL102
    db.session.add(Redemption(coupon_id=coupon.id, user_id=current_user.id,  # expect: PL104
                              order_total=request.json.get("total")))
    db.session.commit()
    return "", 204


@app.post("/coupons/<code>/redeem-atomic")
@login_required
def redeem_atomic(code):
    updated = Coupon.query.filter(Coupon.code == code, Coupon.uses_left > 0).update(  # ok: PL102
        {"uses_left": Coupon.uses_left - 1}
    )
    if not updated:
        abort(410)
    coupon = Coupon.query.filter_by(code=code).one()
    db.session.execute(  # ok: PL104, PL106
        insert(Redemption).values(coupon_id=coupon.id, user_id=current_user.id).on_conflict_do_nothing()
    )
    db.session.commit()
    return "", 204


@app.put("/coupons/<int:coupon_id>")
@login_required
def update_coupon(coupon_id):
    coupon = db.get_or_404(Coupon, coupon_id)  # expect: PL105
    coupon.percent_off = int(request.json["percent_off"])
    db.session.commit()
    return jsonify(id=coupon.id)


@app.put("/my/coupons/<int:coupon_id>")
@login_required
def update_my_coupon(coupon_id):
    coupon = Coupon.query.filter_by(id=coupon_id, owner_id=current_user.id).first_or_404()  # ok: PL105
    coupon.percent_off = int(request.json["percent_off"])
    db.session.commit()
    return jsonify(id=coupon.id)


@app.get("/coupons/<int:coupon_id>")
@login_required
def get_coupon(coupon_id):
    coupon = db.session.get(Coupon, coupon_id)  # ok: PL105
    if coupon is None or coupon.owner_id != current_user.id:
        abort(404)
    return jsonify(id=coupon.id, code=coupon.code, uses_left=coupon.uses_left)


@app.delete("/my/coupons/<int:coupon_id>")
@login_required
def delete_coupon(coupon_id):
    coupon = Coupon.query.filter_by(id=coupon_id, owner_id=current_user.id).first_or_404()
    Redemption.query.filter_by(coupon_id=coupon.id).delete()
    db.session.commit()
    db.session.delete(coupon)  # expect: PL106
    db.session.commit()
    return "", 204


@app.delete("/my/coupons/<int:coupon_id>/atomic")
@login_required
def delete_coupon_atomic(coupon_id):
    coupon = Coupon.query.filter_by(id=coupon_id, owner_id=current_user.id).first_or_404()
    Redemption.query.filter_by(coupon_id=coupon.id).delete()
    db.session.delete(coupon)  # ok: PL106
    db.session.commit()
    return "", 204


@app.get("/coupons/lookup")
@login_required
def lookup():
    code = request.args["code"]
    unsafe = db.session.execute(db.text(f"SELECT id, uses_left FROM coupon WHERE code = '{code}'")).first()  # expect: PL101
    safe = db.session.execute(db.text("SELECT id, uses_left FROM coupon WHERE code = :code").bindparams(code=code)).first()  # ok: PL101
    return jsonify(unsafe=list(unsafe or ()), safe=list(safe or ()))
