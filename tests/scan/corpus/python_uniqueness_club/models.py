"""A club: members, seats, tags, baskets and followers, whose uniqueness the code checks in Python."""

from flask_login import current_user
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import orm

db = SQLAlchemy()


class CrudMixin:
    @classmethod
    def create(cls, **fields):
        row = cls(**fields)
        db.session.add(row)
        db.session.commit()
        return row


followers = db.Table(
    "club_followers",
    db.Column("club_id", db.Integer, db.ForeignKey("club.id"), nullable=False),
    db.Column("member_id", db.Integer, db.ForeignKey("member.id"), nullable=False),
)

sponsors = db.Table(
    "club_sponsors",
    db.Column("club_id", db.Integer, db.ForeignKey("club.id"), nullable=False),
    db.Column("sponsor_id", db.Integer, db.ForeignKey("sponsor.id"), nullable=False),
)


class Member(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(254), unique=True, nullable=False)
    tasks: orm.WriteOnlyMapped["Task"] = orm.relationship(back_populates="member")
    notes: orm.WriteOnlyMapped["Note"] = orm.relationship(back_populates="member")
    roles: orm.WriteOnlyMapped["MemberRole"] = orm.relationship(back_populates="member")
    badges = db.relationship("Badge", backref="member")
    medals = db.relationship("Medal", backref="member")

    def task_in_progress(self, name):
        return db.session.scalar(self.tasks.select().where(Task.name == name, Task.done.is_(False)))

    def start_task(self, name):
        db.session.add(Task(name=name, member=self))

    def set_note(self, name, body):
        """An upsert emulated by delete-then-insert: two requests both delete, then both insert."""
        db.session.execute(self.notes.delete().where(Note.name == name))
        db.session.add(Note(name=name, body=body, member=self))  # expect: PL104

    def set_roles(self, roles):
        """The member's roles replaced as a whole (deleted by the member's id alone)."""
        db.session.execute(self.roles.delete())
        for role in roles:
            db.session.add(MemberRole(role=role, member=self))  # ok: PL104


class Task(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(40), nullable=False)
    done = db.Column(db.Boolean, nullable=False, default=False)
    member_id = db.Column(db.Integer, db.ForeignKey("member.id"), nullable=False)
    member = db.relationship("Member", back_populates="tasks")


class Note(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(40), nullable=False)
    body = db.Column(db.Text, nullable=False)
    member_id = db.Column(db.Integer, db.ForeignKey("member.id"), nullable=False)
    member = db.relationship("Member", back_populates="notes")
    # Left over from a sharing feature: no insert writes it, nothing reads rows by it.
    share_token = db.Column(db.String(64))  # ok: PL201, PL202


class MemberRole(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    role = db.Column(db.String(20), nullable=False)
    member_id = db.Column(db.Integer, db.ForeignKey("member.id"), nullable=False)
    member = db.relationship("Member", back_populates="roles")


class Sponsor(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String(80), nullable=False)


class Club(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    open = db.Column(db.Boolean, nullable=False, default=True)
    followers = db.relationship("Member", secondary=followers, lazy="dynamic")
    sponsors = db.relationship("Sponsor", secondary=sponsors)

    def is_followed_by(self, member):
        return self.followers.filter(followers.c.member_id == member.id).count() > 0

    def follow(self, member):
        if not self.is_followed_by(member):
            self.followers.append(member)  # expect: PL104

    def is_open(self):
        return self.open

    def sponsor(self, sponsor):
        if self.is_open():
            self.sponsors.append(sponsor)  # ok: PL104


class Seat(db.Model):
    """One seat per (club, number): a composite primary key."""
    club_id = db.Column(db.Integer, db.ForeignKey("club.id"), primary_key=True)
    number = db.Column(db.Integer, primary_key=True)


class VIP(db.Model):
    """A model named by an acronym: Flask-SQLAlchemy names its table `vip`."""
    id = db.Column(db.Integer, primary_key=True)
    username = db.Column(db.String(80), nullable=False)  # expect: PL201


class RSVP(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    username = db.Column(db.String(80), nullable=False)  # ok: PL201


class Tag(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(40), nullable=False)  # expect: PL201

    def __init__(self, name):
        db.Model.__init__(self, name=name)


class Label(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(40), unique=True, nullable=False)  # ok: PL201

    def __init__(self, name):
        db.Model.__init__(self, name=name)


class Basket(CrudMixin, db.Model):
    id = db.Column(db.Integer, primary_key=True)
    owner_id = db.Column(db.Integer, db.ForeignKey("member.id"), nullable=False)

    @classmethod
    def get_current_user_basket(cls):
        return cls.query.filter_by(owner_id=current_user.id).first()


class Locker(CrudMixin, db.Model):
    id = db.Column(db.Integer, primary_key=True)
    owner_id = db.Column(db.Integer, db.ForeignKey("member.id"), unique=True, nullable=False)

    @classmethod
    def get_current_user_locker(cls):
        return cls.query.filter_by(owner_id=current_user.id).first()


class Badge(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    kind = db.Column(db.String(20), nullable=False)
    member_id = db.Column(db.Integer, db.ForeignKey("member.id"), nullable=False)


class Medal(db.Model):
    __table_args__ = (db.UniqueConstraint("member_id", "kind"),)
    id = db.Column(db.Integer, primary_key=True)
    kind = db.Column(db.String(20), nullable=False)
    member_id = db.Column(db.Integer, db.ForeignKey("member.id"), nullable=False)
