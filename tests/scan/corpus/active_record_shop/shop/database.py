"""The commit-on-save mixin every model inherits."""

from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()
DATABASE_URL = "postgresql://shop@localhost/shop"


class ActiveRecord:
    @classmethod
    def create(cls, **fields):
        return cls(**fields).save()

    @classmethod
    def get_by_id(cls, record_id):
        return cls.query.get(record_id)

    def update(self, commit=True, **fields):
        for name, value in fields.items():
            setattr(self, name, value)
        return self.save(commit=commit)

    def delete(self):
        db.session.delete(self)
        db.session.commit()

    def save(self, commit=True):
        db.session.add(self)
        if commit:
            db.session.commit()
        return self


class Model(ActiveRecord, db.Model):
    __abstract__ = True
