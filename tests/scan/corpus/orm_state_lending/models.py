"""A tool-lending club: members borrow tools, queue for them and watch shelves (Flask-SQLAlchemy)."""

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.dialects.postgresql import ARRAY

db = SQLAlchemy()

# Who queues for which tool: nothing keeps a member from queueing twice.
queue_entries = db.Table(
    "queue_entries",
    db.Column("member_id", db.Integer, db.ForeignKey("members.id"), nullable=False),
    db.Column("tool_id", db.Integer, db.ForeignKey("tools.id"), nullable=False),
)

# Favourite tools: the pair is the primary key, so a second insert of it fails.
favourites = db.Table(
    "favourites",
    db.Column("member_id", db.Integer, db.ForeignKey("members.id"), primary_key=True),
    db.Column("tool_id", db.Integer, db.ForeignKey("tools.id"), primary_key=True),
)


class Member(db.Model):
    __tablename__ = "members"
    id = db.Column(db.Integer, primary_key=True)
    bio = db.Column(db.Text, nullable=False, default="")
    active = db.Column(db.Boolean, nullable=False, default=True)
    last_seen = db.Column(db.DateTime)
    queued = db.relationship("Tool", secondary=queue_entries)
    liked = db.relationship("Tool", secondary=favourites)


class Tool(db.Model):
    __tablename__ = "tools"
    id = db.Column(db.Integer, primary_key=True)
    label = db.Column(db.String(80), nullable=False)
    lent_to = db.Column(db.Integer, db.ForeignKey("members.id"))
    retired = db.Column(db.Boolean, nullable=False, default=False)
    needs_oil = db.Column(db.Boolean, nullable=False, default=False)


class Notice(db.Model):
    __tablename__ = "notices"
    id = db.Column(db.Integer, primary_key=True)
    tool_id = db.Column(db.Integer, db.ForeignKey("tools.id"), nullable=False)
    body = db.Column(db.Text, nullable=False)


class Shelf(db.Model):
    __tablename__ = "shelves"
    id = db.Column(db.Integer, primary_key=True)
    watcher_ids = db.Column(ARRAY(db.Integer), nullable=False, default=list)


class Repair(db.Model):
    __tablename__ = "repairs"
    id = db.Column(db.Integer, primary_key=True)
    tool_id = db.Column(db.Integer, db.ForeignKey("tools.id"), nullable=False)
    state = db.Column(db.String(16), nullable=False, default="open")
    closed_at = db.Column(db.DateTime)

    def close(self):
        if self.state == "closed":
            return False
        self.state = "closed"  # expect: PL102
        db.session.add(Notice(tool_id=self.tool_id, body="back from repair"))
        db.session.commit()
        return True


class Inspection(db.Model):
    """Optimistic locking: every flush asks for the version it read."""
    __tablename__ = "inspections"
    id = db.Column(db.Integer, primary_key=True)
    tool_id = db.Column(db.Integer, db.ForeignKey("tools.id"), nullable=False)
    passed = db.Column(db.Boolean)
    version = db.Column(db.Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}
