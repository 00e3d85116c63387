"""Routes over the service layer; a fleet registry has no per-user items, so keys from the URL are fine."""

from flask import Flask, jsonify, request
from fleet.service import DeviceService

app = Flask(__name__)
devices = DeviceService()


@app.post("/fleets/<fleet>/devices/<serial>/label")
def label(fleet, serial):
    devices.set_label(fleet, serial, request.json["label"])
    return "", 204


@app.post("/fleets/<fleet>/devices/<serial>/label-checked")
def label_checked(fleet, serial):
    devices.set_label_checked(fleet, serial, request.json["label"])
    return "", 204


@app.post("/fleets/<fleet>/label")
def label_fleet(fleet):
    devices.label_fleet(fleet, request.json["label"])
    return "", 204


@app.get("/fleets/<fleet>/devices")
def live(fleet):
    return jsonify(devices.live_devices(fleet))


@app.get("/fleets/<fleet>/devices-checked")
def live_checked(fleet):
    return jsonify(devices.live_devices_checked(fleet))
