import os

import psycopg
from flask import g

DSN = os.environ.get("NOTES_DSN", "postgresql://notes@localhost/notes")


def get_conn():
    if "conn" not in g:
        g.conn = psycopg.connect(DSN)
    return g.conn
