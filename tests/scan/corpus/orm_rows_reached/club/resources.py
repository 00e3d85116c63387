"""Pluggable views, registered by the package's register_api helper."""

from flask import request
from flask.views import MethodView
from flask_login import current_user, login_required
from sqlalchemy import func, update

from club.models import Court, db
from club.repository import courts


class CourtAPI(MethodView):
    decorators = [login_required]

    def post(self):
        court = courts.get_court(request.json["court_id"])
        court.bookings.append(request.json["slot"])  # expect: PL102
        courts.save(court)
        return "", 201

    def delete(self, court_id):
        court = courts.get_court(court_id)
        court.bookings.remove(request.args["slot"])  # expect: PL102
        courts.save(court)
        return "", 204


class WatchAPI(MethodView):
    decorators = [login_required]

    def post(self):
        db.session.execute(update(Court).where(Court.id == request.json["court_id"]).values(  # ok: PL102
            watchers=func.array_append(Court.watchers, current_user.id)))
        db.session.commit()
        return "", 201
