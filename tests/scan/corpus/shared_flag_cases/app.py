"""Cases anyone may read once their owner shares them: a flag that opens reading must not open deleting."""

from flask import Flask, abort
from flask_login import current_user, login_required
from flask_sqlalchemy import SQLAlchemy

app = Flask(__name__)
db = SQLAlchemy(app)


class Case(db.Model):
    __tablename__ = "cases"
    id = db.Column(db.Integer, primary_key=True)
    owner_id = db.Column(db.Integer, nullable=False)
    is_shared = db.Column(db.Boolean, nullable=False, default=False)
    title = db.Column(db.String(200), nullable=False)


@app.get("/cases/<int:case_id>")
@login_required
def show_case(case_id):
    case = Case.query.get(case_id)  # ok: PL105
    if not (case.is_shared or case.owner_id == current_user.id):
        abort(403)
    return {"title": case.title}


@app.delete("/cases/<int:case_id>")
@login_required
def delete_case(case_id):
    case = Case.query.get(case_id)  # expect: PL105
    if not case.is_shared and case.owner_id != current_user.id:
        abort(403)  # a shared case passes: any signed-in user deletes it
    db.session.delete(case)
    db.session.commit()
    return {"ok": True}


@app.put("/cases/<int:case_id>/title")
@login_required
def rename_case(case_id):
    case = Case.query.get(case_id)  # ok: PL105
    if case.owner_id != current_user.id:
        abort(403)
    case.title = "renamed"
    db.session.commit()
    return {"ok": True}
