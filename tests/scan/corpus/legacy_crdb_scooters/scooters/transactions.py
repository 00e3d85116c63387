"""Transaction bodies: each *_txn function receives the session run_transaction opened (and retries)."""

from scooters.models import Ride, Scooter


def claim_scooter_txn(session, scooter_id, rider_id):
    scooter = session.query(Scooter).filter_by(id=scooter_id).one()  # ok: PL103
    if scooter.in_use:
        return None
    scooter.in_use = True  # ok: PL102
    ride = Ride(scooter_id=scooter_id, rider_id=rider_id)
    session.add(ride)  # ok: PL106
    session.flush()
    return ride.id


def finish_ride_txn(session, ride_id, rider_id):
    ride = session.query(Ride).filter_by(id=ride_id, rider_id=rider_id, active=True).one()  # ok: PL103
    ride.active = False
    scooter = session.query(Scooter).filter_by(id=ride.scooter_id).one()
    scooter.in_use = False  # ok: PL102
