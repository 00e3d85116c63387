"""marshmallow-sqlalchemy: `schema.load(data, instance=row)` writes the client's data into a loaded row."""

from __future__ import annotations

from plumbline.scan.models import calls
from plumbline.scan.values import Value, union


@calls("load")
def load_into_row(visitor, site) -> Value | None:
    instance = site.keywords.get("instance")
    if instance is None or not instance.instance_of or not site.arguments:
        return None
    data = site.arguments[0]
    written = [(name, value) for name, value in data.fields or ()] or [("*", data)]
    for name, value in written:
        visitor.orm_write(instance, name, value, site.node)
    return Value(taint=union(instance, data).taint, instance_of=instance.instance_of)
