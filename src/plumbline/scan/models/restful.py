"""Flask-RESTful, Flask-RESTX and flask-smorest: resource classes registered by path."""

from __future__ import annotations

import ast

from plumbline.scan.models import Registrations, entry_points
from plumbline.scan.models.flask import ALL_METHODS, route
from plumbline.scan.pyast import dotted, last_name, module_nodes_of, string, walk


@entry_points
def resources(tree: ast.Module, ctx) -> Registrations:
    """`api.add_resource(Item, "/items/<id>")`; `@ns.route("/pets/<id>")` / `@blp.route(...)` on a class."""
    registrations = Registrations()
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            for decorator in node.decorator_list:
                if isinstance(decorator, ast.Call) and last_name(decorator.func) == "route" and decorator.args:
                    rule = string(decorator.args[0])
                    if rule is not None:
                        registrations.add_view(node.name, route(rule, ALL_METHODS))
    adders = {"add_resource"} | _resource_adders(tree)
    for call in module_nodes_of(tree, ast.Call):
        if last_name(call.func) in adders and call.args:
            for rule in (r for r in map(string, call.args[1:]) if r is not None):
                registrations.add_view(dotted(call.args[0]), route(rule, ALL_METHODS))
    return registrations


def _resource_adders(tree: ast.Module) -> set[str]:
    """Methods of an `Api` subclass that pass their resource on to `add_resource` (redash's
    `add_org_resource(self, resource, *urls)` prefixing each rule): calling one registers the resource too."""
    passed = {call.args[0].id for call in module_nodes_of(tree, ast.Call) if
              last_name(call.func) == "add_resource" and call.args and isinstance(call.args[0], ast.Name)}
    if not passed:
        return set()  # (the common case: no wrapper here, and no function needs walking)
    adders = set()
    for node in module_nodes_of(tree, ast.FunctionDef, ast.AsyncFunctionDef):
        params = [a.arg for a in node.args.args if a.arg not in ("self", "cls")]
        if params and params[0] in passed and any(
                isinstance(call, ast.Call) and last_name(call.func) == "add_resource" and call.args and
                isinstance(call.args[0], ast.Name) and call.args[0].id == params[0] for call in walk(node)):
            adders.add(node.name)
    return adders
