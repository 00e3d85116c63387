"""Revision bookkeeping shared by the page routes."""

from models import BuriedPage, Page
from pynamodb.exceptions import DoesNotExist


def next_free_revision(page_id, current):
    number = current + 1
    while True:
        try:
            Page.get(f"{page_id}-{number}")  # ok: PL301
        except DoesNotExist:
            return number
        number += 1


def bury(pages):
    """Copies the pages to the graveyard, then removes them: each batch can be re-run after a failure."""
    with BuriedPage.batch_write() as batch:
        for page in pages:
            batch.save(BuriedPage(page_id=page.page_id, title=page.title, body=page.body))  # ok: PL304
    with Page.batch_write() as batch:
        for page in pages:
            batch.delete(page)  # expect: PL303  # ok: PL304

