"""Role checks (a decorator every member's group grants) and object checks (a call on the loaded row)."""

from functools import wraps

from flask_login import current_user
from flask_restful import abort


def require_permission(permission):
    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if permission not in current_user.permissions:
                abort(403)
            return view(*args, **kwargs)
        return wrapper
    return decorator


def require_object_modify_permission(obj, user):
    if obj.user_id != user.id and "admin" not in user.permissions:
        abort(403)
