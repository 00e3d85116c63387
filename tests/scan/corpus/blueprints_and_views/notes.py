"""Notes blueprint: a before_request login hook, MethodView classes and add_url_rule."""

import psycopg
from flask import Blueprint, abort, g, jsonify, request, session
from flask.views import MethodView

from db import get_conn

bp = Blueprint("notes", __name__, url_prefix="/api")


@bp.before_request
def require_login():
    if "user_id" not in session:
        abort(401)
    g.user_id = session["user_id"]


class NoteItem(MethodView):
    def get(self, note_id):
        conn = get_conn()
        row = conn.execute("SELECT id, title, body FROM notes WHERE id = %s", (note_id,)).fetchone()  # expect: PL105
        if row is None:
            abort(404)
        return jsonify(id=row[0], title=row[1], body=row[2])

    def patch(self, note_id):
        conn = get_conn()
        row = conn.execute("SELECT user_id FROM notes WHERE id = %s", (note_id,)).fetchone()  # ok: PL105
        if row is None or row[0] != g.user_id:
            abort(404)
        conn.execute("UPDATE notes SET title = %s WHERE id = %s", (request.json["title"], note_id))
        conn.commit()
        return "", 204

    def delete(self, note_id):
        conn = get_conn()
        deleted = conn.execute("DELETE FROM notes WHERE id = %s AND user_id = %s", (note_id, g.user_id)).rowcount  # ok: PL105
        conn.commit()
        if deleted:
            conn.execute("DELETE FROM labels WHERE note_id = %s AND user_id = %s", (note_id, g.user_id))  # expect: PL106
            conn.commit()
        return "", 204


class NoteSearch(MethodView):
    def get(self):
        title = request.args.get("title", "")
        page = request.args.get("page", "0")
        conn = get_conn()
        rows = conn.execute(  # expect: PL101
            "SELECT id, title FROM notes WHERE user_id = %s AND title LIKE '{}%'".format(title), (g.user_id,)
        ).fetchall()
        more = conn.execute(  # ok: PL101
            "SELECT id FROM notes WHERE user_id = %%s ORDER BY id LIMIT 20 OFFSET %d" % (int(page) * 20), (g.user_id,)
        ).fetchall()
        return jsonify(found=[r[0] for r in rows], more=[r[0] for r in more])


class FolderList(MethodView):
    def post(self):
        conn = get_conn()
        name = request.json["name"]
        if conn.execute("SELECT 1 FROM folders WHERE user_id = %s AND name = %s", (g.user_id, name)).fetchone():
            abort(409)
        try:
            conn.execute("INSERT INTO folders (user_id, name) VALUES (%s, %s)", (g.user_id, name))  # ok: PL104
            conn.commit()
        except psycopg.errors.UniqueViolation:
            conn.rollback()
            abort(409)
        return "", 201


class LabelList(MethodView):
    def post(self, note_id):
        conn = get_conn()
        name = request.json["name"]
        note = conn.execute("SELECT id FROM notes WHERE id = %s AND user_id = %s", (note_id, g.user_id)).fetchone()
        if note is None:
            abort(404)
        if conn.execute("SELECT 1 FROM labels WHERE note_id = %s AND name = %s", (note_id, name)).fetchone():  # ok: PL105
            return "", 200
        conn.execute(  # expect: PL104
            "INSERT INTO labels (user_id, note_id, name) VALUES (%s, %s, %s)", (g.user_id, note_id, name)
        )
        conn.commit()
        return "", 201


def share_note(note_id):
    conn = get_conn()
    row = conn.execute("SELECT share_count FROM notes WHERE id = %s AND user_id = %s", (note_id, g.user_id)).fetchone()
    if row is None:
        abort(404)
    conn.execute(  # expect: PL102
        "UPDATE notes SET share_count = %s WHERE id = %s AND user_id = %s", (row[0] + 1, note_id, g.user_id)
    )
    conn.commit()
    return jsonify(shares=row[0] + 1)


def share_note_atomic(note_id):
    conn = get_conn()
    row = conn.execute(  # ok: PL102
        "UPDATE notes SET share_count = share_count + 1 WHERE id = %s AND user_id = %s RETURNING share_count",
        (note_id, g.user_id),
    ).fetchone()
    conn.commit()
    if row is None:
        abort(404)
    return jsonify(shares=row[0])


bp.add_url_rule("/notes/<int:note_id>", view_func=NoteItem.as_view("note_item"))
bp.add_url_rule("/notes/search", view_func=NoteSearch.as_view("note_search"))
bp.add_url_rule("/folders", view_func=FolderList.as_view("folders"), methods=["POST"])
bp.add_url_rule("/notes/<int:note_id>/labels", view_func=LabelList.as_view("labels"), methods=["POST"])
bp.add_url_rule("/notes/<int:note_id>/share", view_func=share_note, methods=["POST"])
bp.add_url_rule("/notes/<int:note_id>/share-atomic", view_func=share_note_atomic, methods=["POST"])
