"""Resources registered through an Api subclass's own adder; the caller and its organisation are view properties."""

from flask import request
from flask_login import current_user, login_required
from flask_restful import Api, Resource

from boards import models
from boards.permissions import require_object_modify_permission, require_permission


class OrgApi(Api):
    def add_org_resource(self, resource, *urls, **kwargs):
        return self.add_resource(resource, *[f"/<org_slug>{url}" for url in urls], **kwargs)


api = OrgApi()


class BaseResource(Resource):
    decorators = [login_required]

    @property
    def current_user(self):
        return current_user


class BoardResource(BaseResource):
    """Every member's group holds `edit_board`: reading the org's boards is open to all of them, changing one is
    for its owner (post checks the loaded board), so archiving it without that check (delete) is the defect."""

    @require_permission("edit_board")
    def get(self, board_id):
        board = models.Board.get_by_id_and_org(board_id, self.current_org)  # ok: PL105
        return {"name": board.name}

    @require_permission("edit_board")
    def post(self, board_id):
        board = models.Board.get_by_id_and_org(board_id, self.current_org)  # ok: PL105
        require_object_modify_permission(board, self.current_user)
        board.name = request.json["name"]
        models.db.session.commit()
        return {"name": board.name}

    @require_permission("edit_board")
    def delete(self, board_id):
        board = models.Board.get_by_id_and_org(board_id, self.current_org)  # expect: PL105
        if board.is_archived:  # a test of the row found with the caller's org, not of the caller
            return "", 204
        board.is_archived = True
        models.db.session.commit()
        return "", 204


class MemberResource(BaseResource):
    """An admin area: nothing behind this role checks rows one by one, the role is the whole check."""

    @require_permission("admin")
    def delete(self, user_id):
        member = models.User.get_by_id_and_org(user_id, self.current_org)  # ok: PL105
        models.db.session.delete(member)
        models.db.session.commit()
        return "", 204


api.add_org_resource(BoardResource, "/boards/<board_id>")
api.add_org_resource(MemberResource, "/members/<user_id>")
