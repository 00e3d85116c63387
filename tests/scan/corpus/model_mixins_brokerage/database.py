"""Active-record helpers every model inherits: each save/create/update commits on its own."""

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import declared_attr

db = SQLAlchemy()


class CrudMixin:
    @declared_attr
    def __tablename__(cls):
        return cls.__name__.lower()

    @classmethod
    def create(cls, **fields):
        return cls(**fields).save()

    def update(self, **fields):
        for name, value in fields.items():
            setattr(self, name, value)
        return self.save()

    def save(self):
        db.session.add(self)
        db.session.commit()
        return self


class Model(CrudMixin, db.Model):
    __abstract__ = True
