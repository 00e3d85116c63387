"""A climbing gym's strawberry API over psycopg 3: field arguments are client data, the caller is in
info.context (set by the view from the session cookie)."""

import strawberry
from psycopg_pool import ConnectionPool
from strawberry.types import Info

pool = ConnectionPool("postgresql://gym@localhost/gym")


def routes_on_wall(wall: str, limit: int = 20) -> list[str]:
    with pool.connection() as conn:
        rows = conn.execute(f"SELECT grade FROM routes WHERE wall = '{wall}' LIMIT {int(limit)}")  # expect: PL101
        return [grade for (grade,) in rows.fetchall()]


def routes_by_grade(grade: str, limit: int = 20) -> list[str]:
    with pool.connection() as conn:
        rows = conn.execute(f"SELECT wall FROM routes WHERE grade = %s LIMIT {int(limit)}", (grade,))  # ok: PL101
        return [wall for (wall,) in rows.fetchall()]


@strawberry.type
class Query:
    routes: list[str] = strawberry.field(resolver=routes_on_wall)
    walls: list[str] = strawberry.field(resolver=routes_by_grade)

    @strawberry.field
    def pass_visits(self, info: Info, pass_id: int) -> int:
        with pool.connection() as conn:
            row = conn.execute("SELECT visits_left FROM passes WHERE id = %s", (pass_id,)).fetchone()  # expect: PL105
            return row[0]

    @strawberry.field
    def my_pass_visits(self, info: Info, pass_id: int) -> int:
        member = info.context.user.id
        with pool.connection() as conn:
            row = conn.execute("SELECT visits_left FROM passes WHERE id = %s AND member_id = %s",  # ok: PL105
                               (pass_id, member)).fetchone()
            return row[0]


@strawberry.type
class Mutation:
    @strawberry.mutation
    def check_in(self, info: Info, pass_id: int) -> int:
        with pool.connection() as conn:
            (left,) = conn.execute("SELECT visits_left FROM passes WHERE id = %s AND member_id = %s",
                                   (pass_id, info.context["member_id"])).fetchone()
            conn.execute("UPDATE passes SET visits_left = %s WHERE id = %s", (left - 1, pass_id))  # expect: PL102
            return left - 1

    @strawberry.mutation(name="checkInAtomically")
    def check_in_atomic(self, pass_id: int, info: Info) -> int:
        with pool.connection() as conn:
            row = conn.execute("UPDATE passes SET visits_left = visits_left - 1 "  # ok: PL102, PL105
                               "WHERE id = %s AND member_id = %s AND visits_left > 0 RETURNING visits_left",
                               (pass_id, info.context["member_id"])).fetchone()
            return row[0] if row else 0


schema = strawberry.Schema(query=Query, mutation=Mutation)
