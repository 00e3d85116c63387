"""Gym lockers served by connexion: handlers are named by operationId in openapi.yaml, not by @app.route."""

import connexion
from connexion.resolver import RestyResolver

app = connexion.FlaskApp(__name__, specification_dir=".")
app.add_api("openapi.yaml", resolver=RestyResolver("lockers.handlers"))
