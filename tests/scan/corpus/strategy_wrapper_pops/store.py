"""A storage class whose methods hand SQLAlchemy text statements to one method that runs and commits them."""

from sqlalchemy import text

DATABASE_URL = "cockroachdb://pops@localhost:26257/pops"


class Store:
    def __init__(self, db):
        self.db = db

    def run(self, stm, args=None):
        self.db.session.execute(statement=stm, params=args)
        self.db.session.commit()

    def next_id(self):
        row = self.db.session.execute(statement=text("SELECT max(id) FROM pops")).fetchone()  # expect: PL103
        return (row[0] or 0) + 1

    def add(self, name):
        pop_id = self.next_id()
        self.run(text("INSERT INTO pops (id, name) VALUES (:id, :name)"), {"id": pop_id, "name": name})

    def add_generated(self, name):
        self.run(text("INSERT INTO pops (name) VALUES (:name)"), {"name": name})
