"""Flask-RESTful resources; api.py registers them through its own wrapper of add_resource."""

from flask import request
from flask_restful import Resource

import models


class BoardList(Resource):
    def post(self):
        board = models.Board(name=request.json["name"])
        models.db.session.add(board)  # expect: PL104
        models.db.session.commit()
        return {"slug": board.slug}, 201


class StickerList(Resource):
    def post(self):
        sticker = models.Sticker(name=request.json["name"])
        models.db.session.add(sticker)  # ok: PL104
        models.db.session.commit()
        return {"slug": sticker.slug}, 201


class AccessKeyList(Resource):
    def post(self):
        key = models.AccessKey()
        models.db.session.add(key)  # ok: PL104
        models.db.session.commit()
        return {"key": key.api_key}, 201
