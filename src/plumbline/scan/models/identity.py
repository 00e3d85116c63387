"""Who is calling, by the conventions that flask_login, flask_jwt_extended, Flask-Security and hand-written
auth helpers share: `current_user`, `get_jwt_identity()`, decorators that answer 401/403."""

from __future__ import annotations

import ast
from dataclasses import replace

from plumbline.scan.facts import Taint
from plumbline.scan.models import attributes, calls, module_nodes, names
from plumbline.scan.pyast import source
from plumbline.scan.values import Value, union
from plumbline.vocabulary import ACCESS_CHECK_CALL, CALLER_NAME, IDENTITY_CALL, UNAUTHORIZED


@names
def caller(visitor, node: ast.Name) -> Value | None:
    return Value(taint=Taint(identity=True)) if CALLER_NAME.match(node.id) else None


@attributes
def caller_property(visitor, node: ast.Attribute, owner: Value) -> Value | None:
    """`self.current_user`, `self.current_org`: a view class's property handing out the request's caller."""
    if isinstance(node.value, ast.Name) and node.value.id == "self" and CALLER_NAME.match(node.attr):
        return Value(taint=Taint(identity=True))
    return None


@calls()
def identity_helper(visitor, site) -> Value | None:
    """`get_current_user()`, `get_jwt_identity()`, `auth.current_user()`: the caller, when nothing the client
    chose goes in (`get_user_by_id(other_id)` looks another user up; a token read from a header is a credential)."""
    if not IDENTITY_CALL.search(site.name) or site.name in visitor.function.params:
        return None
    passed = union(*site.arguments, *site.keywords.values()).taint
    chosen = {origin for origin in passed.client if not origin.startswith(("request.headers", "request.cookies"))}
    if chosen or passed.params:
        return None
    visitor.function.authenticated = True
    # A project helper is followed all the same: what it reads (`get_current_user_cart()` loads the caller's cart)
    # is a read of the handler's, its result the caller's.
    followed = visitor.python_call(site)
    return replace(followed, taint=followed.taint | Taint(identity=True))


@calls()
def access_check(visitor, site) -> None:
    """`acl_check(resource_id=id)`, `assert_user_owns_event(event_id)`: an authorization decision on the values
    passed, which are vouched for from here on (PL105, PL301)."""
    if ACCESS_CHECK_CALL.search(site.name):
        passed = union(*site.arguments, *site.keywords.values()).taint
        if passed.client or passed.params:
            visitor.vouched = visitor.vouched | Taint(client=passed.client, params=passed.params)
        visitor.owner_checked.update(passed.reads)  # a loaded row (or its owner) handed to the check
    return None


@calls("decode")
def decoded_token(visitor, site) -> Value | None:
    """`jwt.decode(request.headers[...], key)`: the claims of a verified token name the caller."""
    if not site.qualified.startswith(("jwt.", "jose.jwt.", "authlib.jose.jwt.")) or not site.arguments:
        return None
    token = site.arguments[0].taint
    if token.client and all(origin.startswith(("request.headers", "request.cookies")) for origin in token.client):
        visitor.function.authenticated = True
        return Value(taint=Taint(identity=True))
    return None


@module_nodes(ast.FunctionDef, ast.AsyncFunctionDef)
def auth_decorator(node: ast.FunctionDef | ast.AsyncFunctionDef, ctx) -> None:
    """A decorator defined in the project whose wrapper refuses with 401/403."""
    has_wrapper = any(isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) for child in node.body)
    if has_wrapper and UNAUTHORIZED.search(source(node)):
        ctx.facts.auth_decorators.add(node.name)
