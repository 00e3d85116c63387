"""Store credit, spent by a helper that takes the caller's row as an annotated parameter."""

from typing import Optional

from flask_login import current_user

from shop.database import db
from shop.models import User


def spend(user: User, amount):
    if user.credit < amount:
        raise ValueError("not enough credit")
    user.credit = user.credit - amount  # expect: PL102


def refund(user: Optional[User], amount):
    db.session.execute(db.update(User).where(User.id == user.id).values(credit=User.credit + amount))  # ok: PL102


def pay(amount):
    user = User.query.get(current_user.id)
    spend(user, amount)
    refund(user, 0)
    db.session.commit()
    return "", 204
