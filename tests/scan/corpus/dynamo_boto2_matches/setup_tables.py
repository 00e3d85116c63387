"""Creates the matches table with boto 2 (run once by hand)."""

from boto.dynamodb2.fields import HashKey
from boto.dynamodb2.table import Table


def create():
    return Table.create("matches", schema=[HashKey("match_id")])
