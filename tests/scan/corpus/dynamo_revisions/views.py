"""Wiki routes: create with a unique title, edit and revert with a revision history, archive."""

import uuid

from flask import Flask, abort, jsonify, request
from flask_login import current_user, login_required
from history import bury, next_free_revision
from models import Page
from pynamodb.transactions import TransactWrite

app = Flask(__name__)


@app.post("/pages")
@login_required
def create_page():
    body = request.get_json()
    for _ in Page.title_index.query("page", filter_condition=Page.title == body["title"]):
        abort(409)  # a page with that title exists
    page_id = uuid.uuid4().hex
    Page(f"{page_id}-1", kind="page-revision", title=body["title"], body=body["text"]).save()  # ok: PL303
    Page(page_id, kind="page", title=body["title"], body=body["text"]).save()  # expect: PL303, PL304
    return jsonify(id=page_id), 201


@app.post("/drafts")
@login_required
def create_draft():
    body = request.get_json()
    for _ in Page.title_index.query("page", filter_condition=Page.title == body["title"]):
        abort(409)
    draft_id = uuid.uuid4().hex
    Page(draft_id, kind="draft", title=f"Draft {draft_id}", body=body["text"]).save()  # ok: PL303
    return jsonify(id=draft_id), 201


@app.put("/pages/<page_id>")
@login_required
def edit_page(page_id):
    current = Page.get(page_id)  # expect: PL301
    if current.locked:
        abort(423)
    number = next_free_revision(page_id, current.revision)
    text = request.get_json()["text"]
    Page(f"{page_id}-{number}", kind="page-revision", title=current.title, body=text,  # expect: PL303
         revision=number).save()
    Page(page_id, kind="page", title=current.title, body=text, revision=number).save()  # expect: PL303, PL304
    return jsonify(revision=number)


@app.put("/pages/<page_id>/safe")
@login_required
def edit_page_safely(page_id):
    current = Page.get(page_id)  # expect: PL301
    number = next_free_revision(page_id, current.revision)
    text = request.get_json()["text"]
    with TransactWrite() as transaction:
        transaction.save(Page(f"{page_id}-{number}", kind="page-revision", title=current.title, body=text,  # ok: PL303
                              revision=number), condition=Page.page_id.does_not_exist())
        transaction.save(Page(page_id, kind="page", title=current.title, body=text,  # ok: PL303, PL304
                              revision=number), condition=Page.revision == current.revision)
    return jsonify(revision=number)


@app.put("/pages/<page_id>/revert/<int:to>")
@login_required
def revert_page(page_id, to):
    current = Page.get(page_id)  # expect: PL301
    old = Page.get(f"{page_id}-{to}")
    number = next_free_revision(page_id, current.revision)
    Page(f"{page_id}-{number}", kind="page-revision", title=old.title, body=old.body,  # ok: PL303
         revision=number).save(condition=Page.page_id.does_not_exist())
    Page(page_id, kind="page", title=old.title, body=old.body, revision=number).save()  # ok: PL303  # expect: PL304
    return jsonify(revision=number)


@app.post("/pages/<page_id>/archive")
@login_required
def archive_page(page_id):
    page = Page.get(page_id)  # expect: PL301
    if page.locked:
        abort(409, "locked pages stay")
    bury([page])
    return "", 204
