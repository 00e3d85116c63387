"""The storage backend: dicts in, dicts out; each write builds a whole Device from a dict."""

from .models import Device


class DynamoStore:
    def get(self, fleet, serial):
        return self._to_dict(Device.get(fleet, serial))

    def query(self, fleet):
        return self._rows(Device.query(fleet))

    def put(self, device):
        self._to_model(device).save()  # expect: PL303

    def put_unchanged(self, device, version):
        self._to_model(device).save(condition=Device.version == version)  # ok: PL303

    def batch_put(self, devices):
        with Device.batch_write() as batch:
            for device in devices:
                batch.save(self._to_model(device))  # expect: PL303, PL304

    def delete(self, fleet, serial):
        found = list(self._rows(Device.query(fleet, range_key_condition=Device.serial == serial)))
        if not found:
            return False
        self._to_model(found[0]).delete()  # expect: PL303
        return True

    def delete_unseen(self, fleet, serial, seen_at):
        found = list(self._rows(Device.query(fleet, range_key_condition=Device.serial == serial)))
        if not found:
            return False
        self._to_model(found[0]).delete(condition=Device.seen_at == seen_at)  # ok: PL303
        return True

    def _rows(self, cursor):
        for device in cursor:
            yield self._to_dict(device)

    def _to_dict(self, device):
        return {"fleet": device.fleet, "serial": device.serial, "label": device.label, "seen_at": device.seen_at,
                "version": device.version}

    def _to_model(self, device):
        return Device(fleet=device["fleet"], serial=device["serial"], label=device["label"],
                      seen_at=device["seen_at"], version=device["version"])
