"""Flask-RESTX: Namespace-routed Resource classes; each HTTP-verb method is a request handler."""

from flask import Flask, request
from flask_jwt_extended import get_jwt_identity, jwt_required
from flask_restx import Api, Namespace, Resource, abort

from models import Appointment, Slot, db

app = Flask(__name__)
api = Api(app)
ns = Namespace("appointments", path="/appointments")
api.add_namespace(ns)


@ns.route("/<int:appointment_id>")
class AppointmentItem(Resource):
    @jwt_required()
    def get(self, appointment_id):
        appointment = Appointment.query.get_or_404(appointment_id)  # expect: PL105
        return {"id": appointment.id, "note": appointment.note}

    @jwt_required()
    def delete(self, appointment_id):
        appointment = Appointment.query.filter_by(  # ok: PL105
            id=appointment_id, patient_id=get_jwt_identity()).first_or_404()
        db.session.delete(appointment)
        db.session.commit()
        return "", 204


@ns.route("/book")
class BookSlot(Resource):
    @jwt_required()
    def post(self):
        slot = Slot.query.get_or_404(request.json["slot_id"])
        if slot.seats_left < 1:
            abort(409, "slot full")
        slot.seats_left -= 1  # expect: PL102
        db.session.add(Appointment(slot_id=slot.id, patient_id=get_jwt_identity()))
        db.session.commit()
        return {"slot": slot.id}, 201


@ns.route("/book-once")
class BookSlotOnce(Resource):
    @jwt_required()
    def post(self):
        slot_id = request.json["slot_id"]
        taken = Appointment.query.filter_by(slot_id=slot_id, patient_id=get_jwt_identity()).first()
        if taken:
            abort(409, "already booked")
        db.session.add(Appointment(slot_id=slot_id, patient_id=get_jwt_identity()))  # expect: PL104
        db.session.commit()
        return "", 201


@ns.route("/<int:appointment_id>/note")
class AppointmentNote(Resource):
    @jwt_required()
    def put(self, appointment_id):
        appointment = Appointment.query.filter_by(id=appointment_id, patient_id=get_jwt_identity()).first_or_404()
        appointment.note = request.json["note"]  # ok: PL102, PL105
        db.session.commit()
        return "", 204
