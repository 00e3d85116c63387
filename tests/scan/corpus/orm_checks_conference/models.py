"""A conference: attendees, workshops, badges and single-use invites (Flask-SQLAlchemy, commit-on-save mixin)."""

from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


class SaveMixin:
    @classmethod
    def create(cls, **fields):
        row = cls(**fields)
        db.session.add(row)
        db.session.commit()
        return row

    def save(self):
        db.session.add(self)
        db.session.commit()
        return self


enrolments = db.Table(
    "enrolments",
    db.Column("attendee_id", db.Integer, db.ForeignKey("attendees.id"), nullable=False),
    db.Column("workshop_id", db.Integer, db.ForeignKey("workshops.id"), nullable=False),
)


class Attendee(SaveMixin, db.Model):
    __tablename__ = "attendees"
    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(254), unique=True, nullable=False)
    workshops = db.relationship("Workshop", secondary=enrolments)


class Workshop(SaveMixin, db.Model):
    __tablename__ = "workshops"
    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String(120), nullable=False)
    opened = db.Column(db.Boolean, nullable=False, default=False)


class Badge(SaveMixin, db.Model):
    __tablename__ = "badges"
    id = db.Column(db.Integer, primary_key=True)
    attendee_id = db.Column(db.Integer, db.ForeignKey("attendees.id"), nullable=False)
    day = db.Column(db.Date, nullable=False)


class Feedback(SaveMixin, db.Model):
    __tablename__ = "feedback"
    __table_args__ = (db.UniqueConstraint("attendee_id", "workshop_id"),)
    id = db.Column(db.Integer, primary_key=True)
    attendee_id = db.Column(db.Integer, db.ForeignKey("attendees.id"), nullable=False)
    workshop_id = db.Column(db.Integer, db.ForeignKey("workshops.id"), nullable=False)
    stars = db.Column(db.Integer, db.CheckConstraint("stars BETWEEN 1 AND 5"), nullable=False)


class Announcement(db.Model):
    __tablename__ = "announcements"
    id = db.Column(db.Integer, primary_key=True)
    workshop_id = db.Column(db.Integer, db.ForeignKey("workshops.id"), nullable=False)
    body = db.Column(db.Text, nullable=False)


class Invite(db.Model):
    __tablename__ = "invites"
    id = db.Column(db.Integer, primary_key=True)
    code = db.Column(db.String(24), unique=True, nullable=False)
    used = db.Column(db.Boolean, nullable=False, default=False)
