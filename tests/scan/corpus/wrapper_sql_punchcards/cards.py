from uuid import uuid4

from db import commit, run


def new_cards(club_id, count):
    for _ in range(count):
        run("INSERT INTO cards (id, club_id) VALUES (:id, :club_id)", {"id": uuid4(), "club_id": club_id})
    commit()


def claim(card_id, user_id):
    run("UPDATE cards SET user_id = :user_id WHERE id = :card_id AND user_id IS NULL",
        {"card_id": card_id, "user_id": user_id})
    commit()


def add_steward(club_id, user_id):
    run("INSERT INTO stewards (club_id, user_id) VALUES (:club_id, :user_id)", {"club_id": club_id, "user_id": user_id})
    commit()


def punch(card_id, steward_id, delta):
    """One execute, two statements: the punch is logged and the card's value moved by a signed delta."""
    run(
        """
        INSERT INTO punches (card_id, steward_id, delta) VALUES (:card_id, :steward_id, :delta);
        UPDATE cards SET value = value + :delta, visits = visits + 1 WHERE id = :card_id
        """,
        {"card_id": card_id, "steward_id": steward_id, "delta": delta},
    )
    commit()
