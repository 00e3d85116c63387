"""Booking routes: run_transaction, retry loops, and the transactions that forgot them."""

import random
import time

from flask import Flask, abort, jsonify, request
from flask_login import current_user, login_required
from sqlalchemy import insert, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy_cockroachdb import run_transaction
from tenacity import retry, retry_if_exception_type, stop_after_attempt

from models import Booking, Flight, LoyaltyAccount, SessionLocal, engine

app = Flask(__name__)


@app.post("/flights/<uuid:flight_id>/book")
@login_required
def book(flight_id):
    def work(session):
        flight = session.get(Flight, flight_id)  # ok: PL103
        if flight is None or flight.seats_available < 1:
            return None
        # SERIALIZABLE and retried as a whole by run_transaction: not a lost update.
        flight.seats_available -= 1  # ok: PL102
        booking = Booking(flight_id=flight_id, user_id=current_user.id)
        session.add(booking)
        session.flush()
        return booking.id

    booking_id = run_transaction(SessionLocal, work)
    if booking_id is None:
        abort(409)
    return jsonify(id=str(booking_id)), 201


@app.post("/flights/<uuid:flight_id>/book-unretried")
@login_required
def book_unretried(flight_id):
    with SessionLocal() as session, session.begin():
        result = session.execute(  # expect: PL103
            update(Flight).where(Flight.id == flight_id, Flight.seats_available > 0)
            .values(seats_available=Flight.seats_available - 1)
        )
        if result.rowcount == 0:
            abort(409)
        session.add(Booking(flight_id=flight_id, user_id=current_user.id))
    return "", 201


@app.post("/flights/<uuid:flight_id>/book-loop")
@login_required
def book_with_loop(flight_id):
    for attempt in range(6):
        try:
            with engine.begin() as conn:
                updated = conn.execute(  # ok: PL103
                    update(Flight).where(Flight.id == flight_id, Flight.seats_available > 0)
                    .values(seats_available=Flight.seats_available - 1)
                ).rowcount
                if not updated:
                    abort(409)
                conn.execute(insert(Booking).values(flight_id=flight_id, user_id=current_user.id))
            return "", 201
        except OperationalError as exc:
            if getattr(exc.orig, "pgcode", None) != "40001" or attempt == 5:
                raise
            time.sleep(random.uniform(0, 0.05 * 2 ** attempt))
    abort(503)


@app.post("/flights/<uuid:flight_id>/book-wrong-loop")
@login_required
def book_with_wrong_loop(flight_id):
    for _ in range(3):
        try:
            with engine.begin() as conn:
                conn.execute(  # expect: PL103
                    update(Flight).where(Flight.id == flight_id, Flight.seats_available > 0)
                    .values(seats_available=Flight.seats_available - 1)
                )
                conn.execute(insert(Booking).values(flight_id=flight_id, user_id=current_user.id))
            break
        except KeyError:  # retries the wrong failure: 40001 still reaches the client
            continue
    return "", 201


@app.post("/loyalty/redeem")
@login_required
@retry(stop=stop_after_attempt(5), retry=retry_if_exception_type(OperationalError))
def redeem_points():
    cost = int(request.json["points"])
    with engine.begin() as conn:
        updated = conn.execute(  # ok: PL103
            update(LoyaltyAccount)
            .where(LoyaltyAccount.user_id == current_user.id, LoyaltyAccount.points >= cost)
            .values(points=LoyaltyAccount.points - cost)
        ).rowcount
        if updated:
            conn.execute(insert(Booking).values(flight_id=request.json["flight"], user_id=current_user.id))
    return jsonify(ok=bool(updated))


@app.post("/loyalty/earn")
@login_required
def earn_points():
    with engine.connect() as conn:
        # One statement in its implicit transaction: CockroachDB retries it on the server.
        conn.execute(  # ok: PL103
            update(LoyaltyAccount).where(LoyaltyAccount.user_id == current_user.id)
            .values(points=LoyaltyAccount.points + 10)
        )
        conn.commit()
    return "", 204


@app.post("/loyalty/convert")
@login_required
def convert_points():
    cost = int(request.json["points"])
    with engine.connect() as conn:
        balance = conn.execute(  # expect: PL103
            select(LoyaltyAccount.points).where(LoyaltyAccount.user_id == current_user.id)
        ).scalar_one()
        if balance < cost:
            abort(409)
        conn.execute(
            update(LoyaltyAccount).where(LoyaltyAccount.user_id == current_user.id, LoyaltyAccount.points >= cost)
            .values(points=LoyaltyAccount.points - cost)
        )
        conn.commit()
    return "", 204


@app.post("/loyalty/donate")
@login_required
def donate_points():
    cost = int(request.json["points"])
    with SessionLocal() as session:
        account = session.scalars(select(LoyaltyAccount).filter_by(user_id=current_user.id)).one()
        session.commit()
        if account.points < cost:
            abort(409)
        account.points = account.points - cost  # expect: PL102
        session.commit()
    return "", 204
