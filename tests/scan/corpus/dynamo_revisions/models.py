"""PynamoDB models of a wiki: each page keeps its current text under `page_id` and every revision under
`<page_id>-<n>`; deleted pages move to a graveyard table."""

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model


class TitleIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "kind-title-index"
        projection = AllProjection()

    kind = UnicodeAttribute(hash_key=True)
    title = UnicodeAttribute(range_key=True)


class Page(Model):
    class Meta:
        table_name = "pages"

    page_id = UnicodeAttribute(hash_key=True)
    owner_id = UnicodeAttribute(null=True)
    kind = UnicodeAttribute()
    title = UnicodeAttribute()
    body = UnicodeAttribute()
    revision = NumberAttribute(default=1)
    locked = NumberAttribute(default=0)
    title_index = TitleIndex()


class BuriedPage(Model):
    class Meta:
        table_name = "pages-graveyard"

    page_id = UnicodeAttribute(hash_key=True)
    title = UnicodeAttribute()
    body = UnicodeAttribute()
