"""A repository object, as larger apps keep one per model."""

from club.models import Court, db


class CourtRepository:
    def get_court(self, court_id):
        return db.session.get(Court, court_id)

    def save(self, court):
        db.session.merge(court)
        db.session.commit()


courts = CourtRepository()
