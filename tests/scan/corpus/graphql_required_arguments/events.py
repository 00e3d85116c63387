"""strawberry: an argument typed without Optional and without a default is a non-null one (`String!`)."""

from typing import Optional

import strawberry

from models import Event, db


@strawberry.type
class Mutation:
    @strawberry.mutation
    def add_event(self, title: str, subtitle: Optional[str] = None) -> bool:
        db.session.add(Event(title=title, subtitle=subtitle))
        db.session.commit()
        return True
