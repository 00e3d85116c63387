from flask import Flask
from flask_sqlalchemy import SQLAlchemy

app = Flask(__name__)
db = SQLAlchemy(app)


def run(*args, **kwargs):
    return db.session.execute(*args, **kwargs)


def commit():
    db.session.commit()
