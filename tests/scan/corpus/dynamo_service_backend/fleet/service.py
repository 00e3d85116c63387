"""The service layer the routes call: it holds its store, a DynamoStore unless another backend is passed in.

(A package, so that `storage` is recognisably the project's own module, not a library's.)"""

from datetime import datetime, timedelta

from . import storage


class DeviceService:
    def __init__(self, store=storage.DynamoStore()):
        self.store = store

    def set_label(self, fleet, serial, label):
        device = self.store.get(fleet, serial)
        device["label"] = label
        self.store.put(device)

    def set_label_checked(self, fleet, serial, label):
        device = self.store.get(fleet, serial)
        seen = device["version"]
        device["label"] = label
        device["version"] = seen + 1
        self.store.put_unchanged(device, seen)

    def label_fleet(self, fleet, label):
        changed = []
        for device in self.store.query(fleet):
            if device["label"] != label:
                device["label"] = label
                changed.append(device)
        self.store.batch_put(changed)

    def live_devices(self, fleet):
        live = []
        for device in self.store.query(fleet):
            if self._stale(device):
                self.store.delete(device["fleet"], device["serial"])
            else:
                live.append(device)
        return live

    def live_devices_checked(self, fleet):
        live = []
        for device in self.store.query(fleet):
            if self._stale(device):
                self.store.delete_unseen(device["fleet"], device["serial"], device["seen_at"])
            else:
                live.append(device)
        return live

    def _stale(self, device):
        if datetime.utcnow() - device["seen_at"] > timedelta(minutes=5):
            return True
        return False
