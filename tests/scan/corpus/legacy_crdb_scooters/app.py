"""Routes of the scooter app; all but one go through RideStore."""

from flask import Flask, abort, jsonify, session as cookie

from scooters.models import Scooter
from scooters.store import RideStore

app = Flask(__name__)
store = RideStore("cockroachdb://scooters@localhost:26257/scooters?sslmode=disable")


@app.post("/scooters/<uuid:scooter_id>/claim")
def claim(scooter_id):
    ride_id = store.claim_scooter(scooter_id, cookie["rider_id"])
    if ride_id is None:
        abort(409)
    return jsonify(ride=str(ride_id)), 201


@app.post("/rides/<uuid:ride_id>/finish")
def finish(ride_id):
    store.finish_ride(ride_id, cookie["rider_id"])
    return "", 204


@app.post("/scooters/<uuid:scooter_id>/service")
def send_to_service(scooter_id):
    db = store.sessionmaker()
    scooter = db.query(Scooter).filter_by(id=scooter_id).one()  # expect: PL103
    if scooter.in_use:
        abort(409)
    scooter.battery = 100
    scooter.in_use = True
    db.commit()
    return "", 204
