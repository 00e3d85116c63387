"""The club app; its pluggable views go through Flask's documented register_api helper."""

from flask import Blueprint

from .resources import CourtAPI, WatchAPI

api = Blueprint("api", __name__)


def register_api(view, endpoint, url, pk="id", pk_type="int"):
    view_func = view.as_view(endpoint)
    api.add_url_rule(url, view_func=view_func, methods=["GET", "POST"])
    api.add_url_rule("%s/<%s:%s>" % (url, pk_type, pk), view_func=view_func, methods=["GET", "PUT", "DELETE"])


register_api(CourtAPI, "api_court", "/courts", pk="court_id")
register_api(WatchAPI, "api_watch", "/watches")
