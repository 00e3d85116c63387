"""Blog routes: session.query(...) and Model.query."""

from flask import Flask, abort, jsonify, request
from flask_login import current_user, login_required
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from models import Comment, Post, Tag, User, Wallet, db_session

app = Flask(__name__)
PROMOTION_COST = 10


@app.teardown_appcontext
def remove_session(exc=None):
    db_session.remove()


@app.put("/posts/<int:post_id>")
@login_required
def edit_post(post_id):
    post = Post.query.get_or_404(post_id)  # ok: PL105
    if post.author_id != current_user.id:
        abort(403)
    post.title = request.json["title"]
    post.body = request.json["body"]
    db_session.commit()
    return jsonify(id=post.id)


@app.delete("/comments/<int:comment_id>")
@login_required
def delete_comment(comment_id):
    comment = db_session.query(Comment).get(comment_id)  # expect: PL105
    if comment is None:
        abort(404)
    db_session.delete(comment)
    db_session.commit()
    return "", 204


@app.delete("/my/comments/<int:comment_id>")
@login_required
def delete_my_comment(comment_id):
    comment = db_session.query(Comment).filter_by(id=comment_id, user_id=current_user.id).first()  # ok: PL105
    if comment is None:
        abort(404)
    db_session.delete(comment)
    db_session.commit()
    return "", 204


@app.post("/posts/<int:post_id>/republish")
@login_required
def republish_post(post_id):
    post = Post.query.filter(Post.id == post_id, Post.author_id == current_user.id).first_or_404()  # ok: PL105
    # Post has a version_id_col: a concurrent edit makes this flush fail with StaleDataError.
    post.edit_count = post.edit_count + 1  # ok: PL102
    db_session.commit()
    return jsonify(edits=post.edit_count)


@app.post("/posts/<int:post_id>/promote")
@login_required
def promote_post(post_id):
    wallet = db_session.query(Wallet).filter_by(user_id=current_user.id).one()
    if wallet.credits < PROMOTION_COST:
        abort(402)
    wallet.credits -= PROMOTION_COST  # expect: PL102
    db_session.commit()
    return jsonify(credits=wallet.credits)


@app.post("/posts/<int:post_id>/promote-locked")
@login_required
def promote_post_locked(post_id):
    wallet = db_session.query(Wallet).filter_by(user_id=current_user.id).with_for_update().one()
    if wallet.credits < PROMOTION_COST:
        abort(402)
    wallet.credits -= PROMOTION_COST  # ok: PL102
    db_session.commit()
    return jsonify(credits=wallet.credits)


@app.post("/posts/<int:post_id>/promote-atomic")
@login_required
def promote_post_atomic(post_id):
    updated = db_session.query(Wallet).filter(  # ok: PL102
        Wallet.user_id == current_user.id, Wallet.credits >= PROMOTION_COST
    ).update({"credits": Wallet.credits - PROMOTION_COST})
    db_session.commit()
    if not updated:
        abort(402)
    return "", 204


@app.post("/signup")
def signup():
    data = request.get_json()
    if User.query.filter_by(email=data["email"]).first() is not None:
        return jsonify(error="email in use"), 409
    user = User(username=data["username"], email=data["email"])
    db_session.add(user)  # expect: PL104
    db_session.commit()
    return jsonify(id=user.id), 201


@app.post("/signup/by-username")
def signup_by_username():
    data = request.get_json()
    if User.query.filter_by(username=data["username"]).first() is not None:
        return jsonify(error="username taken"), 409
    try:
        db_session.add(User(username=data["username"], email=data.get("email")))  # ok: PL104
        db_session.commit()
    except IntegrityError:
        db_session.rollback()
        return jsonify(error="username taken"), 409
    return "", 201


@app.post("/posts")
@login_required
def create_post():
    data = request.get_json()
    post = Post(author_id=current_user.id, slug=data["slug"], title=data["title"], body=data["body"])
    db_session.add(post)
    db_session.commit()
    for name in data.get("tags", []):
        db_session.add(Tag(post_id=post.id, name=name))  # expect: PL106
    db_session.commit()
    return jsonify(id=post.id), 201


@app.post("/posts/draft")
@login_required
def create_draft():
    data = request.get_json()
    post = Post(author_id=current_user.id, slug=data["slug"], title=data["title"], body="")
    db_session.add(post)
    db_session.flush()
    db_session.add(Tag(post_id=post.id, name="draft"))  # ok: PL106
    db_session.commit()
    return jsonify(id=post.id), 201


@app.get("/posts/search")
def search_posts():
    q = request.args.get("q", "")
    rows = db_session.execute(text("SELECT id, title FROM posts WHERE title ILIKE '%" + q + "%'")).all()  # expect: PL101
    return jsonify([list(r) for r in rows])


@app.get("/posts/search-orm")
def search_posts_orm():
    q = request.args.get("q", "")
    sort = "created_at DESC" if request.args.get("sort") == "new" else "id"
    rows = db_session.execute(text("SELECT id, title FROM posts ORDER BY " + sort)).all()  # ok: PL101
    found = Post.query.filter(Post.title.ilike(f"%{q}%")).all()  # ok: PL101
    return jsonify(order=[r.id for r in rows], ids=[p.id for p in found])
