"""Flask: routes and views, the request object (client data), `session` and `g` (the caller), `abort(401)`."""

from __future__ import annotations

import ast
import re

from plumbline.scan.facts import EntryPoint, Taint, just
from plumbline.scan.models import VIEW_METHODS, Registrations, attributes, calls, entry_points, module_nodes, subscripts
from plumbline.scan.pyast import decorator_name, dotted, kwarg, last_name, module_nodes_of, source, string, strings
from plumbline.scan.values import UNKNOWN, Value
from plumbline.vocabulary import AUTH_DECORATOR, IDENTITY_ATTRIBUTE, PRIVILEGE, UNAUTHORIZED

ALL_METHODS = tuple(m.upper() for m in VIEW_METHODS)
ROUTE_DECORATORS = {"route", *VIEW_METHODS}
REQUEST_ATTRIBUTES = {
    "args", "form", "json", "values", "view_args", "headers", "cookies", "data", "files",
    "get_json", "get_data", "stream", "query_string", "environ",
}
CLAIMS = ("sub", "email", "username", "preferred_username", "uid", "login")  # token claims naming the caller
# Rules registered through a project's helper, per module: real apps register dozens; a hostile file calling a
# helper of hundreds of rules thousands of times would multiply them past what a scan can check.
MAX_HELPED_RULES = 2_000
MAX_RULE_DEPTH = 20  # a URL rule a registering helper builds is a few parts joined, never an expression deeper
PATH_PARAMETER = re.compile(r"<(?:(\w+)(?:\([^)<]*\))?:)?(\w+)>")  # ([^)<]: linear on "<a(<a(<a(...")


def path_params(rule: str) -> tuple[str, ...]:
    return tuple(match.group(2) for match in PATH_PARAMETER.finditer(rule))


def route(rule: str, methods: tuple[str, ...], *, auth: bool = False, privileged: bool = False) -> EntryPoint:
    parameters = path_params(rule)  # (a URL without one does not match: each is always there)
    return EntryPoint("http", rule, methods, parameters, required=parameters, auth=auth, privileged=privileged)


# ---- client data and the caller --------------------------------------------------------------------------

def request_source(visitor, node: ast.AST | None) -> str:
    """'request.json' for request.json / request.get_json() / request.args..., else ''."""
    if node is None:
        return ""
    if isinstance(node, ast.Call):
        node = node.func
    if not isinstance(node, ast.Attribute) or node.attr not in REQUEST_ATTRIBUTES:
        return ""
    base = node.value
    if isinstance(base, ast.Name) and base.id == "request" and visitor.scope.lookup("request") is None:
        return f"request.{node.attr.removeprefix('get_')}"
    if isinstance(base, ast.Attribute) and base.attr == "request" and dotted(base.value) == "flask":
        return f"request.{node.attr}"
    return ""


CONVERSIONS = ("int", "float", "bool", "UUID")  # `type=` callables of a request lookup whose result cannot inject


def _client(origin: str) -> Value:
    return Value(taint=Taint(client=just(origin)))


def _labelled(origin: str, label: str | None) -> str:
    return f"{origin}[{label!r}]" if label else origin


def _is_session(visitor, node: ast.AST | None) -> bool:
    return isinstance(node, ast.Name) and node.id == "session" and "flask.session" in visitor.ctx.flags


@attributes
def request_attribute(visitor, node: ast.Attribute, owner: Value) -> Value | None:
    origin = request_source(visitor, node)
    if origin:
        return _client(origin)
    base = node.value
    if isinstance(base, ast.Name) and base.id == "g" and visitor.scope.lookup("g") is None:
        return Value(taint=Taint(identity=True)) if IDENTITY_ATTRIBUTE.search(node.attr) else UNKNOWN
    return None


@subscripts
def request_item(visitor, node: ast.Subscript, container: Value, label: str | None) -> Value | None:
    if _is_session(visitor, node.value):
        return Value(taint=Taint(identity=True))
    base = node.value
    if isinstance(base, ast.Attribute) and isinstance(base.value, ast.Name) and base.value.id == "g" and \
            visitor.scope.lookup("g") is None and label and (IDENTITY_ATTRIBUTE.search(label) or label in CLAIMS):
        return Value(taint=Taint(identity=True))  # g.token_info["username"]: a claim of the verified token
    origin = request_source(visitor, node.value)
    return _client(_labelled(origin, label)) if origin else None


@calls(*(name for name in REQUEST_ATTRIBUTES if name.startswith("get_")))
def request_method(visitor, site) -> Value | None:
    origin = request_source(visitor, site.node)
    return _client(origin) if origin else None


@calls("get", "getlist", "pop", "setdefault")
def request_lookup(visitor, site) -> Value | None:
    func = site.node.func
    if not isinstance(func, ast.Attribute):
        return None
    origin = request_source(visitor, func.value)
    if origin:
        value = _client(_labelled(origin, string(site.node.args[0]) if site.node.args else None))
        # `request.args.get("since", 0.0, type=float)`: werkzeug converts the value (or falls back to the default)
        converted = kwarg(site.node, "type")
        if converted is not None and last_name(converted) in CONVERSIONS:
            return Value(taint=value.taint.casted())
        return value
    if site.name == "get" and _is_session(visitor, func.value):
        return Value(taint=Taint(identity=True))
    return None


@calls("abort")
def abort(visitor, site) -> None:
    """`abort(401)` / `abort(403)`: the handler checks who calls it."""
    if site.node.args and UNAUTHORIZED.search(source(site.node.args[0])):
        visitor.function.authenticated = True
    return None


@module_nodes(ast.ImportFrom)
def session_import(node: ast.ImportFrom, ctx) -> None:
    if node.module == "flask" and any(alias.name == "session" for alias in node.names):
        ctx.flags.add("flask.session")


# ---- entry points ----------------------------------------------------------------------------------------

@entry_points
def routes(tree: ast.Module, ctx) -> Registrations:
    """`@app.route` / `@bp.get` on functions and methods, also on functions defined inside an app factory
    (`def register(app): @app.route(...)`), and `add_url_rule` (functions and `View.as_view`)."""
    registrations = Registrations()
    guards = _before_request_guards(tree)
    helpers = _registering_helpers(tree)
    helped = 0  # rules registered through helpers: each call multiplies a helper's rules
    for call in module_nodes_of(tree, ast.Call):
        _add_url_rule(call, guards, registrations)
        if isinstance(call.func, ast.Name) and call.func.id in helpers and helped < MAX_HELPED_RULES:
            helped += _helper_registration(call, helpers[call.func.id], guards, registrations)
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            _decorated_routes(node, node.name, guards, registrations)
            for inner, qualname in _nested_functions(node, f"{node.name}.<locals>"):
                _decorated_routes(inner, qualname, guards, registrations)
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    _decorated_routes(item, f"{node.name}.{item.name}", guards, registrations)
            decorators = view_decorators(node)
            if decorators:
                registrations.class_decorators[node.name] = decorators
    return registrations


def _nested_functions(node, prefix: str):
    """Functions defined in `node`'s body, in its if/with/try blocks too (not in nested classes), with the
    qualnames the core gives them. A work list, not recursion: an elif chain can be thousands of blocks deep."""
    pending = [(list(node.body), prefix)]
    while pending:
        statements, where = pending.pop()
        for child in statements:
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                qualname = f"{where}.{child.name}"
                yield child, qualname
                pending.append((list(child.body), f"{qualname}.<locals>"))
            elif isinstance(child, (ast.If, ast.With, ast.AsyncWith, ast.Try, ast.For, ast.While)):
                pending.append((list(_bodies(child)), where))


def _bodies(node: ast.stmt):
    for name in ("body", "orelse", "finalbody"):
        yield from getattr(node, name, ())
    for handler in getattr(node, "handlers", ()):
        yield from handler.body


def _decorated_routes(node, qualname: str, guards: dict[str, tuple[bool, bool]],
                      registrations: Registrations) -> None:
    for decorator in node.decorator_list:
        if not isinstance(decorator, ast.Call) or not decorator.args:
            continue
        target = decorator.func
        if not (isinstance(target, ast.Attribute) and target.attr in ROUTE_DECORATORS):
            continue
        rule = string(decorator.args[0])
        if rule is None:
            continue
        methods = (target.attr.upper(),) if target.attr != "route" else tuple(
            m.upper() for m in strings(kwarg(decorator, "methods"))) or ("GET",)
        auth, privileged = guards.get(dotted(target.value), (False, False))
        registrations.add_function(qualname, route(rule, methods, auth=auth, privileged=privileged))


def _add_url_rule(call: ast.Call, guards: dict[str, tuple[bool, bool]], registrations: Registrations) -> None:
    if last_name(call.func) != "add_url_rule" or not call.args:
        return
    rule = string(call.args[0])
    view = kwarg(call, "view_func") or (call.args[2] if len(call.args) > 2 else None)
    if rule is None or view is None:
        return
    methods = tuple(m.upper() for m in strings(kwarg(call, "methods"))) or ("GET",)
    while isinstance(view, ast.Call) and view.args and not (isinstance(view.func, ast.Attribute)
                                                             and view.func.attr == "as_view"):
        view = view.args[0]  # login_required(views.edit), partial(item_delete, Product): the view inside
    target = dotted(view.func.value) if isinstance(view, ast.Call) and isinstance(view.func, ast.Attribute) \
        and view.func.attr == "as_view" else dotted(view)
    owner = dotted(call.func.value) if isinstance(call.func, ast.Attribute) else ""
    auth, privileged = guards.get(owner, (False, False))
    if target:
        registrations.add_view(target, route(rule, methods, auth=auth, privileged=privileged))


Helper = tuple[ast.FunctionDef, list[ast.Call]]  # a registering helper and the add_url_rule calls it makes


def _registering_helpers(tree: ast.Module) -> dict[str, Helper]:
    """Module functions that register the view they are given: Flask's documented pluggable-view helper
    `def register_api(view, endpoint, url): view_func = view.as_view(endpoint); app.add_url_rule(url, ...)`."""
    helpers = {}
    registered = [call for call in module_nodes_of(tree, ast.Call)
                  if call.args and last_name(call.func) == "add_url_rule"]
    if not registered:
        return helpers  # (most modules)
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        end = node.end_lineno or node.lineno
        rules = [rule for rule in registered if node.lineno <= rule.lineno <= end and _view_parameter(rule, node)]
        if rules:
            helpers[node.name] = (node, rules)
    return helpers


def _view_parameter(rule: ast.Call, helper: ast.FunctionDef) -> str | None:
    """The helper's parameter that `add_url_rule` registers as the view (itself, or its `as_view()`)."""
    view = kwarg(rule, "view_func") or (rule.args[2] if len(rule.args) > 2 else None)
    if isinstance(view, ast.Name):  # a local name bound once in the helper: `view_func = view.as_view(name)`
        bound = [node.value for node in helper.body if isinstance(node, ast.Assign) and len(node.targets) == 1
                 and isinstance(node.targets[0], ast.Name) and node.targets[0].id == view.id]
        view = bound[0] if len(bound) == 1 else view
    if isinstance(view, ast.Call) and isinstance(view.func, ast.Attribute) and view.func.attr == "as_view":
        view = view.func.value
    params = [a.arg for a in helper.args.posonlyargs + helper.args.args]
    return view.id if isinstance(view, ast.Name) and view.id in params else None


def _helper_registration(call: ast.Call, helper: Helper, guards: dict[str, tuple[bool, bool]],
                         registrations: Registrations) -> int:
    """`register_api(TaskAPI, "api_task", "/task", pk="oid")`: each rule the helper adds, for the view passed.
    Returns how many rules it registered."""
    definition, rules = helper
    params = [a.arg for a in definition.args.posonlyargs + definition.args.args]
    bound: dict[str, ast.expr] = dict(zip(params[len(params) - len(definition.args.defaults):],
                                          definition.args.defaults))
    bound.update(zip(params, call.args))
    bound.update((kw.arg, kw.value) for kw in call.keywords if kw.arg)
    added = 0
    for rule_call in rules:
        view = bound.get(_view_parameter(rule_call, definition) or "")
        rule = _rule_text(rule_call.args[0], bound)
        if view is None or rule is None or not dotted(view):
            continue
        methods = tuple(m.upper() for m in strings(kwarg(rule_call, "methods"))) or ("GET",)
        owner = dotted(rule_call.func.value) if isinstance(rule_call.func, ast.Attribute) else ""
        auth, privileged = guards.get(owner, (False, False))
        registrations.add_view(dotted(view), route(rule, methods, auth=auth, privileged=privileged))
        added += 1
    return added


def _rule_text(node: ast.expr, bound: dict[str, ast.expr], depth: int = 0) -> str | None:
    """The URL rule a helper builds from its arguments (`url`, `'%s/<%s:%s>' % (url, pk_type, pk)`, an f-string),
    or None when it is not built from strings alone (or too deeply to be a URL rule)."""
    if depth > MAX_RULE_DEPTH:
        return None
    depth += 1
    if isinstance(node, ast.Name):
        node = bound.get(node.id)
        return string(node) if node is not None else None
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _rule_text(node.left, bound, depth), _rule_text(node.right, bound, depth)
        return left + right if left is not None and right is not None else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        template = _rule_text(node.left, bound, depth)
        items = node.right.elts if isinstance(node.right, ast.Tuple) else [node.right]
        values = [_rule_text(item, bound, depth) for item in items]
        if template is None or None in values or template.count("%s") != len(values) or \
                template.count("%") != len(values):
            return None
        return template % tuple(values)
    if isinstance(node, ast.JoinedStr):
        parts = [_rule_text(v.value if isinstance(v, ast.FormattedValue) else v, bound, depth) for v in node.values]
        return "".join(parts) if None not in parts else None
    return None


def _before_request_guards(tree: ast.Module) -> dict[str, tuple[bool, bool]]:
    """Apps and blueprints whose `before_request` hook (anywhere in the module: app factories define them inside
    a function) refuses unauthenticated callers: name -> (authenticated, restricted to a role or permission)."""
    guards = {}
    for node in module_nodes_of(tree, ast.FunctionDef, ast.AsyncFunctionDef):
        for decorator in node.decorator_list:
            name = decorator_name(decorator)
            if not name.endswith(("before_request", "before_app_request")):
                continue
            text = source(node)
            if AUTH_DECORATOR.search(text) or UNAUTHORIZED.search(text):
                guards[name.rsplit(".", 1)[0]] = (True, bool(PRIVILEGE.search(text)))
    return guards


def view_decorators(node: ast.ClassDef) -> tuple[str, ...]:
    """`decorators = [...]` (MethodView) / `method_decorators = [...]` (Flask-RESTful): every method takes them."""
    for item in node.body:
        if isinstance(item, ast.Assign) and any(isinstance(t, ast.Name) and t.id in ("decorators", "method_decorators")
                                                for t in item.targets):
            if isinstance(item.value, (ast.List, ast.Tuple)):
                return tuple(decorator_name(e) for e in item.value.elts)
    return ()
