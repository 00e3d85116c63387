"""A service layer: the routes call methods of a CardService built once per app or per request."""

import psycopg2


class CardService:
    def __init__(self, dsn):
        self.conn = psycopg2.connect(dsn)

    def balance(self, card_id):
        cur = self.conn.cursor()
        cur.execute("SELECT balance FROM cards WHERE id = %s", (card_id,))  # expect: PL105
        return cur.fetchone()[0]

    def owned_balance(self, card_id, user_id):
        cur = self.conn.cursor()
        cur.execute("SELECT balance FROM cards WHERE id = %s AND owner_id = %s", (card_id, user_id))  # ok: PL105
        row = cur.fetchone()
        return row[0] if row else None

    def spend(self, card_id, user_id, amount):
        cur = self.conn.cursor()
        cur.execute("SELECT balance FROM cards WHERE id = %s AND owner_id = %s", (card_id, user_id))
        balance = cur.fetchone()[0]
        cur.execute("UPDATE cards SET balance = %s WHERE id = %s", (balance - amount, card_id))  # expect: PL102
        self.conn.commit()

    def spend_safely(self, card_id, user_id, amount):
        cur = self.conn.cursor()
        cur.execute(  # ok: PL102
            "UPDATE cards SET balance = balance - %s WHERE id = %s AND owner_id = %s AND balance >= %s",
            (amount, card_id, user_id, amount),
        )
        self.conn.commit()
        return cur.rowcount == 1
