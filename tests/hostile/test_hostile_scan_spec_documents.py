"""OpenAPI documents and connexion calls crafted against the scan: a document that connexion would not read is
skipped, never an exception, and none costs more than seconds (alias fan-out, size, nesting, regex food).

The documents go through the connexion model's project handler as the scan driver calls it, the Python
through the real extractor.
"""

from __future__ import annotations

import ast
import json
import os
import textwrap

import pytest

from plumbline.scan.facts import EntryPoint
from plumbline.scan.files import spec_documents
from plumbline.scan.models.connexion import connexion_operations
from plumbline.scan.python import extract

pytestmark = [pytest.mark.hostile, pytest.mark.timeout(30)]

HANDLER = extract(ast.parse("def fetch(pet_id):\n    return pet_id\n"), "", "pets/api.py", "pets.api")
SOUND = textwrap.dedent("""
    openapi: 3.0.0
    paths:
      /pets/{pet_id}:
        get:
          operationId: pets.api.fetch
          parameters: [{name: pet_id, in: path, required: true}]
""")
SOUND_ENTRY = {"pets.api.fetch": [EntryPoint("operation", "pets.api.fetch", ("GET",), ("pet_id",))]}

LAUGHS = ("openapi: 3.0.0\na: &a [{name: lol, in: query}, {name: lol, in: query}, {name: lol, in: query}]\n"
          + "".join(f"{name}: &{name} [{', '.join(['*' + previous] * 9)}]\n"
                    for previous, name in zip("abcdefghi", "bcdefghij"))
          + "paths:\n  /x:\n    parameters: *j\n    get: {operationId: pets.api.fetch, parameters: *j}\n")
FAN_OUT = ("openapi: 3.0.0\nx-shared: &shared\n"
           + "".join(f"  - {{name: p{i}, in: query}}\n" for i in range(20_000))
           + "paths:\n"
           + "".join(f"  /p{i}:\n    get: {{operationId: pets.api.fetch, parameters: *shared}}\n"
                     f"    post: {{operationId: pets.api.fetch, parameters: *shared}}\n" for i in range(2_000)))


def operations(*documents: tuple[str, str]) -> dict:
    return connexion_operations(list(documents), [HANDLER])


@pytest.mark.parametrize("text", [
    "", "null", "42", "'openapi'", "[openapi, paths]", "- openapi: 3.0.0\n  paths: {}\n",
    "openapi: 3.0.0\npaths: 7\n", "openapi: 3.0.0\npaths: [/a, /b]\noperationId: x\n",
    "openapi: 3.0.0\npaths: {/a: [get], /b: get, 3: {get: {operationId: pets.api.fetch}}}\n",
    "openapi: 3.0.0\npaths: {/a: {get: [operationId], post: 'operationId: pets.api.fetch'}}\n",
    "openapi: 3.0.0\npaths: {/a: {get: {operationId: 12}, put: {operationId: [pets.api.fetch]}, "
    "post: {operationId: {pets: api}}, delete: {operationId: null}}}\n",
    "openapi: 3.0.0\npaths: {/a: {get: {operationId: \"__import__('os').system('id')\"}, "
    "post: {operationId: ../../etc/passwd}, put: {operationId: pets.api.}}}\n",
    "openapi: 3.0.0\npaths: {? [a, b] : {get: {operationId: pets.api.fetch}}}\n",  # an unhashable key
    "openapi: 3.0.0\npaths: {/a: {get: {operationId: pets.api.fetch}}}\n\t\x00\x01: [\n",
    "openapi: !!python/object/apply:os.system [id]\npaths: {operationId: x}\n",
    "openapi: 3.0.0\npaths: {/a: {$ref: '#/paths/~1a'}}\noperationId: x\n",  # a $ref cycle
    "openapi: 3.0.0\npaths: {/a: {$ref: 'http://127.0.0.1:9/x.yaml'}, /b: {$ref: 12}, /c: {$ref: '#/no/where/0'}}\n"
    "operationId: x\n",
    "openapi: 3.0.0\npaths: {/a: {get: {operationId: pets.api.fetch\ud800}}}\n",  # a lone surrogate
    "[" * 100_000 + "operationId" + "]" * 100_000,
    "openapi: 3.0.0\npaths:" + " {a:" * 50_000 + " operationId" + "}" * 50_000 + "\n",
])
def test_documents_that_connexion_would_not_read_are_skipped(text):
    assert operations(("openapi.yaml", text)) == {}


@pytest.mark.parametrize("text", [
    "openapi: 3.0.0\nsecurity: yes\npaths: {'/pets/{pet_id}': {x-openapi-router-controller: [x], get: {operationId: "
    "pets.api.fetch, x-openapi-router-controller: 12, parameters: 5, requestBody: [body], security: {bearer: []}}}}\n",
    "openapi: 3.0.0\nsecurity: [[bearer]]\npaths: {'/pets/{pet_id}': {parameters: {name: pet_id}, get: {operationId: "
    "pets.api.fetch, parameters: [5, null, [pet_id], {name: 7, in: path}, {name: [pet_id], in: query}, "
    "{name: other, in: [path]}, {$ref: 9}], requestBody: {x-body-name: [pet_id]}}}}\n",
])
def test_wrong_types_inside_an_operation_are_ignored_and_the_operation_kept(text):
    assert operations(("openapi.yaml", text)) == {
        "pets.api.fetch": [EntryPoint("operation", "pets.api.fetch", ("GET",), (), ())]}


def test_a_billion_laughs_document_is_read_without_expanding_it():
    assert operations(("openapi.yaml", LAUGHS)) == {
        "pets.api.fetch": [EntryPoint("operation", "pets.api.fetch", ("GET",), (), ())]}


def test_one_parameter_list_shared_by_thousands_of_operations_is_skipped_not_walked():
    assert operations(("openapi.yaml", FAN_OUT), ("sound.yaml", SOUND)) == SOUND_ENTRY


@pytest.mark.parametrize("name", ["openapi.yaml", "openapi.json"])
def test_a_five_megabyte_document_is_skipped(name):
    padding = " " * (5 * 1024 * 1024)
    text = json.dumps({"openapi": "3.0.0", "paths": {}, "x-padding": padding, "operationId": "x"})
    assert operations((name, text), ("sound.yaml", SOUND)) == SOUND_ENTRY


def test_long_names_cost_no_quadratic_regex_time():
    many = "A" * 200_000
    text = json.dumps({"openapi": "3.0.0", "paths": {
        "/" + "{a}/" * 50_000: {"get": {"operationId": "pets.api." + "f" * 500_000,
                                        "parameters": [{"name": many, "in": "query"},
                                                       {"name": "A" * 250 + "b", "in": "query"}],
                                        "requestBody": {"x-body-name": many}}}}})
    assert operations(("openapi.json", text)) == {}


@pytest.mark.parametrize("source", [
    "app.add_api()", "app.add_api(123, resolver=RestyResolver(None))", "RestyResolver()",
    "RestyResolver('not a module!')", "RestyResolver(default_module_name=f'{x}')", "add_api(resolver=lambda: 1)",
    "RelativeResolver(*roots)", "RestyResolver(**options)", "app.add_api(*specs, **{'resolver': 1})",
])
def test_odd_connexion_calls_record_nothing_and_raise_nothing(source):
    text = "from connexion.resolver import RelativeResolver, RestyResolver\n" + source + "\n"
    assert extract(ast.parse(text), text, "app.py", "app").operation_resolvers == []


def test_spec_documents_skips_fifos_devices_binaries_and_oversized_files(tmp_path):
    root = tmp_path / "tree"
    root.mkdir()
    (root / "openapi.yaml").write_text(SOUND)
    os.mkfifo(root / "fifo.yaml")
    os.symlink("/dev/zero", root / "zero.yaml")
    (root / "binary.json").write_bytes(b'{"openapi": "3.0.0", "paths": {}}\x00')
    (root / "large.yml").write_text("openapi: 3.0.0\npaths: {}\n" + " " * (3 * 1024 * 1024))
    assert [path for path, _ in spec_documents(root)] == ["openapi.yaml"]


def test_json_nested_past_the_recursion_limit_is_skipped():
    text = '{"openapi": "3.0.0", "operationId": ' + "[" * 200_000 + "]" * 200_000 + "}"
    assert operations(("openapi.json", text)) == {}
