"""A roster API on CockroachDB: marshmallow-sqlalchemy schemas load the client's changes into loaded rows."""

from flask import Flask, request
from flask_restx import Api, Resource
from flask_sqlalchemy import SQLAlchemy
from marshmallow_sqlalchemy import SQLAlchemyAutoSchema
from sqlalchemy_cockroachdb import run_transaction

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = "cockroachdb://roster@localhost:26257/roster"
db = SQLAlchemy(app)
api = Api(app)


class Player(db.Model):
    __tablename__ = "players"
    id = db.Column(db.Integer, primary_key=True)
    nickname = db.Column(db.String(40), nullable=False, unique=True)  # ok: PL201
    team = db.Column(db.String(40), nullable=False)


class PlayerSchema(SQLAlchemyAutoSchema):
    class Meta:
        model = Player
        load_instance = True


@api.route("/players/<int:player_id>")
class PlayerDetail(Resource):
    schema = PlayerSchema()

    def put(self, player_id):
        player = Player.query.filter_by(id=player_id).first_or_404()  # expect: PL103
        player = self.schema.load(request.get_json(), instance=player, partial=True)
        db.session.add(player)
        db.session.commit()
        return self.schema.dump(player)


def update_player(session, player_id, changes):
    player = session.query(Player).filter_by(id=player_id).one()  # ok: PL103
    PlayerSchema().load(changes, instance=player, partial=True, session=session)


@api.route("/players/<int:player_id>/safe")
class SafePlayerDetail(Resource):
    def put(self, player_id):
        run_transaction(db.session, lambda session: update_player(session, player_id, request.get_json()))
        return "", 204
