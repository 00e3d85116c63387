"""The API object: every resource is registered under /v1 by a wrapper of add_resource."""

from flask_restful import Api

from resources import BoardList, AccessKeyList, StickerList


class VersionedApi(Api):
    def add_versioned_resource(self, resource, *urls, **kwargs):
        return self.add_resource(resource, *[f"/v1{url}" for url in urls], **kwargs)


api = VersionedApi()
api.add_versioned_resource(BoardList, "/boards")
api.add_versioned_resource(StickerList, "/stickers")
api.add_versioned_resource(AccessKeyList, "/keys")
