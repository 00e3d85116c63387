"""Ticketing API: Session, select(), session.get(), update()."""

from flask import Flask, abort, jsonify, request
from flask_login import current_user, login_required
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import Concert, Ticket, engine

app = Flask(__name__)


@app.post("/concerts/<int:concert_id>/book")
@login_required
def book(concert_id):
    with Session(engine) as session:
        concert = session.get(Concert, concert_id)
        if concert is None or concert.seats_left < 1:
            abort(409)
        concert.seats_left -= 1  # expect: PL102
        session.add(Ticket(concert_id=concert_id, owner_id=current_user.id, seat=request.json["seat"],
                           barcode=request.json["barcode"]))
        session.commit()
    return "", 201


@app.post("/concerts/<int:concert_id>/book-locked")
@login_required
def book_locked(concert_id):
    with Session(engine) as session, session.begin():
        concert = session.get(Concert, concert_id, with_for_update=True)
        if concert is None or concert.seats_left < 1:
            abort(409)
        concert.seats_left -= 1  # ok: PL102
    return "", 201


@app.post("/concerts/<int:concert_id>/book-atomic")
@login_required
def book_atomic(concert_id):
    with Session(engine) as session, session.begin():
        result = session.execute(  # ok: PL102
            update(Concert)
            .where(Concert.id == concert_id, Concert.seats_left > 0)
            .values(seats_left=Concert.seats_left - 1)
        )
        if result.rowcount == 0:
            abort(409)
    return "", 201


@app.get("/tickets/<int:ticket_id>")
@login_required
def get_ticket(ticket_id):
    with Session(engine) as session:
        ticket = session.get(Ticket, ticket_id)  # expect: PL105
        if ticket is None:
            abort(404)
        return jsonify(id=ticket.id, seat=ticket.seat)


@app.get("/my/tickets/<int:ticket_id>")
@login_required
def get_my_ticket(ticket_id):
    with Session(engine) as session:
        ticket = session.scalars(  # ok: PL105
            select(Ticket).where(Ticket.id == ticket_id, Ticket.owner_id == current_user.id)
        ).first()
        if ticket is None:
            abort(404)
        return jsonify(id=ticket.id, seat=ticket.seat)


@app.get("/concerts/<int:concert_id>")
def get_concert(concert_id):
    with Session(engine) as session:
        concert = session.get(Concert, concert_id)  # ok: PL105
        if concert is None:
            abort(404)
        return jsonify(id=concert.id, title=concert.title, seats_left=concert.seats_left)


@app.post("/tickets/redeem")
@login_required
def redeem_voucher():
    code = request.json["barcode"]
    with Session(engine) as session:
        taken = session.scalar(select(Ticket.id).where(Ticket.barcode == code))
        if taken is not None:
            abort(409)
        session.add(Ticket(concert_id=request.json["concert"], seat=request.json["seat"],  # expect: PL104
                           owner_id=current_user.id, barcode=code))
        session.commit()
    return "", 201


@app.post("/tickets/redeem-safe")
@login_required
def redeem_voucher_safe():
    code = request.json["barcode"]
    with Session(engine) as session:
        taken = session.scalar(select(Ticket.id).where(Ticket.barcode == code))
        if taken is not None:
            abort(409)
        try:
            session.add(Ticket(concert_id=request.json["concert"], seat=request.json["seat"],  # ok: PL104
                               owner_id=current_user.id, barcode=code))
            session.commit()
        except IntegrityError:
            abort(409)
    return "", 201


@app.delete("/my/tickets/<int:ticket_id>")
@login_required
def cancel_ticket(ticket_id):
    with Session(engine) as session:
        ticket = session.scalars(select(Ticket).filter_by(id=ticket_id, owner_id=current_user.id)).one_or_none()
        if ticket is None:
            abort(404)
        concert_id = ticket.concert_id
        session.delete(ticket)
        session.commit()
        session.execute(update(Concert).where(Concert.id == concert_id).values(seats_left=Concert.seats_left + 1))  # expect: PL106
        session.commit()
    return "", 204


@app.delete("/my/tickets/<int:ticket_id>/atomic")
@login_required
def cancel_ticket_atomic(ticket_id):
    with Session(engine) as session, session.begin():
        ticket = session.scalars(select(Ticket).filter_by(id=ticket_id, owner_id=current_user.id)).one_or_none()
        if ticket is None:
            abort(404)
        session.delete(ticket)
        session.execute(update(Concert).where(Concert.id == ticket.concert_id)  # ok: PL106
                        .values(seats_left=Concert.seats_left + 1))
    return "", 204


@app.get("/concerts/search")
def search_concerts():
    title = request.args.get("title", "")
    limit = request.args.get("limit", "20")
    with Session(engine) as session:
        rows = session.execute(text("SELECT id, title FROM concerts WHERE title = '{}'".format(title))).all()  # expect: PL101
        top = session.execute(text("SELECT id FROM concerts ORDER BY id LIMIT {}".format(int(limit)))).all()  # ok: PL101
    return jsonify(found=[r.id for r in rows], top=[r.id for r in top])
