"""Queue routes: the Flask-SQLAlchemy session opens one implicit transaction per request, committed once."""

from flask import Flask, request
from flask_login import login_required
from sqlalchemy import text

from models import Stage, Visitor, db

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = "cockroachdb://desk@localhost:26257/queue?sslmode=disable"
db.init_app(app)


@app.post("/visitors/<int:visitor_id>/serve")
@login_required
def begin_service(visitor_id):
    open_stage = Stage.query.filter_by(visitor_id=visitor_id, closed=False).first()  # expect: PL103
    open_stage.closed = True
    db.session.add(Stage(visitor_id=visitor_id, kind="serving"))
    Visitor.query.get(visitor_id).state = "serving"
    db.session.commit()
    return "", 204


@app.put("/desks/<int:desk_id>/tickets")
@login_required
def next_ticket(desk_id):
    last = db.session.execute(text("SELECT max(id) FROM visitors")).scalar() or 0  # expect: PL103
    db.session.execute(text("INSERT INTO visitors (id, desk_id) VALUES (:id, :desk)"), {"id": last + 1, "desk": desk_id})
    db.session.commit()
    return {"ticket": last + 1}, 201


@app.post("/visitors/<int:visitor_id>/rename-state")
@login_required
def set_state(visitor_id):
    db.session.execute(text("UPDATE visitors SET state = :state WHERE id = :id"),  # ok: PL103
                       {"state": request.json["state"], "id": visitor_id})
    db.session.commit()
    return "", 204
