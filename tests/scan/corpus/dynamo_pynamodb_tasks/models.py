"""PynamoDB models of a task tracker: tasks live under their owner's partition; boards carry a version."""

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, VersionAttribute
from pynamodb.models import Model


class Task(Model):
    class Meta:
        table_name = "tasks"

    owner_id = UnicodeAttribute(hash_key=True)
    task_id = UnicodeAttribute(range_key=True)
    title = UnicodeAttribute()
    done = NumberAttribute(default=0)


class Board(Model):
    class Meta:
        table_name = "boards"

    board_id = UnicodeAttribute(hash_key=True)
    owner_id = UnicodeAttribute()
    name = UnicodeAttribute()
    version = VersionAttribute()


class Tag(Model):
    class Meta:
        table_name = "tags"

    tag = UnicodeAttribute(hash_key=True)
    owner_id = UnicodeAttribute()
    uses = NumberAttribute(default=0)


class Recipe(Model):
    """A public catalogue: no item belongs to anyone."""

    class Meta:
        table_name = "recipes"

    slug = UnicodeAttribute(hash_key=True)
    title = UnicodeAttribute()
    likes = NumberAttribute(default=0)
