"""The Flask tutorial's way: one helper runs every statement the routes write."""

import psycopg2
from flask import g


def get_db():
    if "db" not in g:
        g.db = psycopg2.connect("postgresql://raffle@localhost/raffle")
    return g.db


def query(sql, args=()):
    cur = get_db().cursor()
    cur.execute(sql, args)
    return cur.fetchall()


def run(sql, args=()):
    get_db().cursor().execute(sql, args)
    get_db().commit()
