"""A fleet registry: devices check in under their fleet; nobody owns a device, so no key is anyone's."""

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model


class Device(Model):
    class Meta:
        table_name = "devices"

    fleet = UnicodeAttribute(hash_key=True)
    serial = UnicodeAttribute(range_key=True)
    label = UnicodeAttribute(null=True)
    seen_at = UTCDateTimeAttribute()
    version = NumberAttribute(default=0)
