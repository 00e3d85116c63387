"""The wrapper the routes use: every method runs a *_txn body through the legacy run_transaction."""

from cockroachdb.sqlalchemy import run_transaction
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from scooters.transactions import claim_scooter_txn, finish_ride_txn


class RideStore:
    def __init__(self, url):
        self.engine = create_engine(url)
        self.sessionmaker = sessionmaker(bind=self.engine)

    def claim_scooter(self, scooter_id, rider_id):
        return run_transaction(self.sessionmaker,
                               lambda session: claim_scooter_txn(session, scooter_id, rider_id))

    def finish_ride(self, ride_id, rider_id):
        return run_transaction(self.sessionmaker, lambda session: finish_ride_txn(session, ride_id, rider_id))
