"""PUT /ballot/{uuid} casts a vote; POST spoils the ballot (RestyResolver names both from the path)."""

from connexion import request

from ballots.models import Ballot, get_by_uuid, get_by_uuid_locked, session


def put(uuid):
    ballot = get_by_uuid(Ballot, uuid)
    ballot.votes = ballot.votes + [request.get_json()["choice"]]  # expect: PL102
    session.commit()
    return {"votes": len(ballot.votes)}


def post(uuid):
    ballot = get_by_uuid_locked(Ballot, uuid)
    ballot.spoilt = ballot.spoilt + 1  # ok: PL102
    session.commit()
    return {"spoilt": ballot.spoilt}
