"""Resolvers, defined apart from where ariadne binds them (app.py)."""

from ariadne import convert_kwargs_to_snake_case

from models import Notice, Poster
from store import save


@convert_kwargs_to_snake_case
def post_notice(obj, info, headline, body=None, pinned_by=None):
    notice = Notice(headline=headline, body=body, pinned_by=pinned_by)
    save(notice)
    return notice


def move_notice(obj, info, id, pinnedBy):
    notice = Notice.query.get(id)
    notice.pinned_by = pinnedBy
    save(notice)
    return notice


def hang_poster(obj, info, poster, wall):
    save(Poster(caption=poster["caption"], wall=wall))
    return True
