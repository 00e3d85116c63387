"""ariadne bound to imported resolvers, the schema read from schema.graphql; a graphene schema for teams."""

import graphene
from ariadne import ObjectType, load_schema_from_path, make_executable_schema
from flask import Flask, request

from models import Booking, Fixture, Pin, Team, db
from notices import hang_poster, move_notice, post_notice

app = Flask(__name__)
mutation = ObjectType("Mutation")
mutation.set_field("postNotice", post_notice)
mutation.set_field("moveNotice", move_notice)
mutation.set_field("hangPoster", hang_poster)
schema = make_executable_schema(load_schema_from_path("schema.graphql"), mutation)


class AddTeam(graphene.Mutation):
    class Arguments:
        motto = graphene.String(required=True)
        colours = graphene.List(graphene.String, required=True)  # a list, maybe empty: not one value

    ok = graphene.Boolean()

    def mutate(self, info, motto, colours=None):
        db.session.add(Team(motto=motto, colours=colours))
        db.session.commit()
        return AddTeam(ok=True)


class BookFixture(graphene.Mutation):
    class Arguments:
        venue = graphene.String(required=True)
        court = graphene.Argument(graphene.NonNull(graphene.String))

    ok = graphene.Boolean()

    def mutate(self, info, venue, court):
        db.session.add(Fixture(venue=venue))
        db.session.add(Booking(court=court))
        db.session.commit()
        return BookFixture(ok=True)


@app.post("/sections/<section>/pins")
def pin_note(section):
    db.session.add(Pin(section=section, note=request.get_json().get("note")))
    db.session.commit()
    return {"ok": True}


def import_fixtures(rows):
    """A loader run by hand: some fixtures have no venue yet, so NULL is a state the data has."""
    for row in rows:
        db.session.add(Fixture(venue=row.get("venue")))
    db.session.commit()


class Mutation(graphene.ObjectType):
    add_team = AddTeam.Field()
    book_fixture = BookFixture.Field()
