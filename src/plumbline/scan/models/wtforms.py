"""WTForms: `form.populate_obj(row)` writes every field of the submitted form onto an object."""

from __future__ import annotations

from plumbline.scan.facts import Taint
from plumbline.scan.models import calls
from plumbline.scan.values import UNKNOWN, Value

FORM_DATA = Value(taint=Taint(client=frozenset({"form data"})))


@calls("populate_obj")
def populate_obj(visitor, site) -> Value | None:
    """On a loaded row it is an UPDATE of that row with the client's values; on a new object, columns of its INSERT
    that only the form knows."""
    if site.receiver is None or len(site.arguments) != 1 or not site.arguments[0].instance_of:
        return None
    visitor.built_field(site.node.args[0], site.arguments[0], "*", FORM_DATA)
    visitor.orm_write(site.arguments[0], "*", FORM_DATA, site.node)
    return UNKNOWN
