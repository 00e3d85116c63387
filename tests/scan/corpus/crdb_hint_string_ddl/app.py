"""Recipe ratings; the URL comes from the environment and only the DDL (STRING columns) says CockroachDB."""

import os

import psycopg
from flask import Flask, request
from flask_login import login_required

app = Flask(__name__)


@app.post("/recipes/<int:recipe_id>/ratings")
@login_required
def rate(recipe_id):
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        conn.execute("INSERT INTO ratings (recipe_id, stars) VALUES (%s, %s)",  # expect: PL103
                     (recipe_id, int(request.json["stars"])))
        conn.execute("UPDATE recipes SET rating_count = rating_count + 1 WHERE id = %s", (recipe_id,))
    return "", 201


@app.post("/recipes/<int:recipe_id>/servings")
@login_required
def set_servings(recipe_id):
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        conn.execute("UPDATE recipes SET servings = %s WHERE id = %s",  # ok: PL103
                     (int(request.json["servings"]), recipe_id))
    return "", 204
