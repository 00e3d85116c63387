"""Entry points that are not `@app.route`: connexion operations (OpenAPI documents + resolvers made in Python)
and GraphQL resolvers (graphene, strawberry, ariadne), with the caller read from `info.context`.

Sources go through the real extractor (`scan/python.py` with every model loaded); documents through the
connexion model's project handler, as the scan driver calls it.
"""

from __future__ import annotations

import ast
import json
import os
import textwrap
from pathlib import Path

import pytest

from plumbline.scan.facts import EntryPoint, Function, ModuleFacts
from plumbline.scan.files import spec_documents
from plumbline.scan.models.connexion import connexion_operations, python_names
from plumbline.scan.python import extract


def facts_of(source: str, module: str = "app") -> ModuleFacts:
    text = textwrap.dedent(source)
    return extract(ast.parse(text), text, module.replace(".", "/") + ".py", module)


def functions(facts: ModuleFacts) -> dict[str, Function]:
    return {function.qualname: function for function in facts.functions}


def entries(source: str, module: str = "app") -> dict[str, list[EntryPoint]]:
    return {name: function.entry_points for name, function in functions(facts_of(source, module)).items()
            if function.entry_points}


def document(text: str) -> str:
    return textwrap.dedent(text).strip() + "\n"


# ---- connexion ----------------------------------------------------------------------------------------------

HANDLERS = """
    def show_pet(pet_id, user):
        return pet_id

    def list_pets(limit, from_, petKind, pet_kind, token_info):
        return limit

    def create_pet(body, user, request_id):
        return body

    def plain(x):
        return x
"""

PETS = document("""
    openapi: 3.0.0
    info: {title: pets, version: "1"}
    security:
      - bearer: []
    paths:
      /pets/{pet_id}:
        parameters:
          - {name: pet_id, in: path, required: true, schema: {type: integer}}
        get:
          operationId: shop.api.show_pet
          responses: {"200": {description: a pet}}
      /pets:
        get:
          operationId: shop.api.list_pets
          security: []
          parameters:
            - {name: limit, in: query, schema: {type: integer}}
            - {name: from, in: query, schema: {type: integer}}
            - {name: petKind, in: query, schema: {type: string}}
            - {name: X-Request-Id, in: header, schema: {type: string}}
          responses: {"200": {description: pets}}
        post:
          operationId: shop.api.create_pet
          parameters:
            - {name: request_id, in: header, schema: {type: string}}
          requestBody:
            content:
              application/json:
                schema: {type: object}
          responses: {"201": {description: created}}
""")


def test_operation_ids_name_handlers_with_their_methods_inputs_identity_and_security():
    found = connexion_operations([("openapi.yaml", PETS)], [facts_of(HANDLERS, "shop.api")])
    assert set(found) == {"shop.api.show_pet", "shop.api.list_pets", "shop.api.create_pet"}
    assert found["shop.api.show_pet"] == [EntryPoint("operation", "shop.api.show_pet", ("GET",), ("pet_id",),
                                                     ("user",), auth=True)]
    # `from` arrives as `from_`, `petKind` as itself or (pythonic_params) as `pet_kind`; headers are not passed;
    # `security: []` on the operation lifts the document's requirement.
    assert found["shop.api.list_pets"] == [EntryPoint("operation", "shop.api.list_pets", ("GET",),
                                                      ("limit", "from_", "petKind", "pet_kind"), ("token_info",),
                                                      auth=False)]
    create = found["shop.api.create_pet"][0]
    assert (create.methods, create.inputs, create.identity, create.auth) == (("POST",), ("body",), ("user",), True)


def test_router_controller_on_the_operation_or_its_path_makes_the_operation_id_relative():
    spec = document("""
        openapi: 3.0.3
        paths:
          /wallet/top-up:
            x-openapi-router-controller: shop.wallet
            post:
              operationId: top_up
              responses: {"204": {description: credited}}
            delete:
              x-openapi-router-controller: shop.refunds
              operationId: top_up
              responses: {"204": {description: refunded}}
    """)
    wallet = facts_of("def top_up(body):\n    return body\n", "shop.wallet")
    refunds = facts_of("def top_up(body):\n    return body\n", "shop.refunds")
    found = connexion_operations([("spec/openapi.yaml", spec)], [wallet, refunds])
    assert {name: [e.methods for e in entry] for name, entry in found.items()} == {
        "shop.wallet.top_up": [("POST",)], "shop.refunds.top_up": [("DELETE",)]}
    assert found["shop.wallet.top_up"][0].auth is False  # no security anywhere


RESTY_APP = """
    import connexion
    from connexion.resolver import RestyResolver

    app = connexion.FlaskApp(__name__, specification_dir="spec/")
    app.add_api("./openapi.yaml", resolver=RestyResolver("shop.api", collection_endpoint_name="{collection}"))
"""

RESTY_SPEC = document("""
    openapi: 3.0.0
    paths:
      /:
        get: {responses: {"200": {description: root}}}
      /pets:
        get: {responses: {"200": {description: list}}}
        post: {responses: {"201": {description: created}}}
      /pets/{pet_id}:
        get: {responses: {"200": {description: one}}}
        put: {responses: {"200": {description: replaced}}}
        patch: {responses: {"200": {description: changed}}}
        delete: {responses: {"204": {description: gone}}}
      /pet-owners/{owner_id}/pets:
        get: {responses: {"200": {description: an owner's pets}}}
      /stores/{store_id}:
        x-openapi-router-controller: shop.stores
        get: {responses: {"200": {description: a store}}}
      /named:
        get:
          operationId: shop.other.named
          responses: {"200": {description: by operationId}}
""")


@pytest.mark.parametrize("collection", ["search", "list_all"])
def test_resty_resolver_names_handlers_from_path_and_method(collection):
    app = facts_of(RESTY_APP.format(collection=collection), "app")
    found = connexion_operations([("spec/openapi.yaml", RESTY_SPEC)], [app])
    assert {name: [e.methods for e in entry] for name, entry in found.items()} == {
        "shop.api.get": [("GET",)],
        f"shop.api.pets.{collection}": [("GET",)],
        "shop.api.pets.post": [("POST",)],
        "shop.api.pets.get": [("GET",)],
        "shop.api.pets.put": [("PUT",)],
        "shop.api.pets.patch": [("PATCH",)],
        "shop.api.pets.delete": [("DELETE",)],
        f"shop.api.pet_owners.pets.{collection}": [("GET",)],
        "shop.stores.get": [("GET",)],
        "shop.other.named": [("GET",)],
    }


def test_resolvers_apply_to_the_document_their_add_api_serves():
    app = facts_of("""
        from connexion import FlaskApp
        from connexion.resolver import RelativeResolver, RestyResolver

        app = FlaskApp(__name__)
        app.add_api("admin.yaml", resolver=RestyResolver("admin_api"))
        app.add_api("public.yaml", resolver=RelativeResolver("public_api"))
    """)
    admin = document("""
        openapi: 3.0.0
        paths:
          /users: {get: {responses: {"200": {description: users}}}}
    """)
    public = document("""
        swagger: "2.0"
        paths:
          /users:
            get: {operationId: users.search, responses: {"200": {description: users}}}
          /orphans:
            get: {responses: {"200": {description: no operationId}}}
    """)
    found = connexion_operations([("admin.yaml", admin), ("public.yaml", public)], [app])
    assert sorted(found) == ["admin_api.users.search", "public_api.users.search", "users.search"]


def test_swagger_2_body_and_form_parameters_and_local_refs():
    spec = json.dumps({
        "swagger": "2.0",
        "parameters": {"Tag": {"name": "tagName", "in": "formData", "type": "string"}},
        "paths": {
            "/uploads": {"post": {"operationId": "media.api.upload",
                                  "security": [{"key": []}, {}],  # credentials optional
                                  "parameters": [{"$ref": "#/parameters/Tag"},
                                                 {"name": "payload", "in": "body", "schema": {"type": "object"}},
                                                 {"name": "session", "in": "cookie"}]}},
        },
    })
    handlers = facts_of("def upload(payload, tag_name, tagName, session):\n    return payload\n", "media.api")
    found = connexion_operations([("swagger.json", spec)], [handlers])
    assert found == {"media.api.upload": [EntryPoint("operation", "media.api.upload", ("POST",),
                                                     ("payload", "tag_name", "tagName"), (), auth=False)]}


def test_a_handler_in_a_directory_without_init_is_found_by_its_module_path_suffix():
    spec = document("""
        openapi: 3.0.0
        paths:
          /pets/{id}:
            get:
              operationId: api.pets.fetch
              parameters: [{name: id, in: path, required: true}]
    """)
    pets = facts_of("def fetch(id_):\n    return id_\n", "pets")  # api/ has no __init__.py: the scan says `pets`
    found = connexion_operations([("openapi.yaml", spec)], [pets])
    assert found == {"pets.fetch": [EntryPoint("operation", "api.pets.fetch", ("GET",), ("id_",), ())]}


def test_an_operation_whose_handler_is_not_scanned_keeps_the_names_connexion_would_pass():
    spec = document("""
        openapi: 3.0.0
        paths:
          /p/{petId}:
            get: {operationId: elsewhere.fetch, parameters: [{name: petId, in: path}]}
    """)
    assert connexion_operations([("openapi.yaml", spec)], []) == {
        "elsewhere.fetch": [EntryPoint("operation", "elsewhere.fetch", ("GET",), ("petId", "pet_id"), ())]}


def test_documents_that_are_no_openapi_document_give_nothing():
    handlers = [facts_of(HANDLERS, "shop.api")]
    for path, text in [("ci.yaml", "on: {push: {paths: [src]}}\njobs: {}\n"),
                       ("package.json", json.dumps({"name": "x", "operationId": "shop.api.plain"})),
                       ("openapi.yaml", "openapi: 3.0.0\npaths: []\n"),
                       ("broken.yaml", "openapi: [3.0\npaths: {\n")]:
        assert connexion_operations([(path, text)], handlers) == {}


def test_python_names_follow_connexion_sanitizing():
    assert python_names("petId") == {"petId", "pet_id"}
    assert python_names("filter[status]") == {"filter_status"}
    assert python_names("X-Request-ID") == {"XRequestID", "x_request_id"}
    assert python_names("id") == {"id", "id_"}
    assert python_names("class") == {"class", "class_"}


def test_add_api_and_resolvers_are_recorded_from_python():
    facts = facts_of("""
        import connexion
        from connexion import resolver as resolvers

        app = connexion.App(__name__)
        app.add_api("openapi.yaml", resolver=connexion.resolver.RestyResolver("pets.api"))
        shared = resolvers.RelativeResolver(root_path="pets.handlers")
        app.add_api(SPEC_PATH, resolver=shared)
        not_connexion = RestyResolver("other")
    """)
    assert {(r.document, r.kind, r.module) for r in facts.operation_resolvers} == {
        ("openapi.yaml", "resty", "pets.api"), (None, "resty", "pets.api"), (None, "relative", "pets.handlers")}


def test_spec_documents_finds_openapi_documents_only_inside_the_tree(tmp_path):
    root = tmp_path / "app"
    (root / "spec").mkdir(parents=True)
    (root / "node_modules" / "lib").mkdir(parents=True)
    (root / "spec" / "openapi.yaml").write_text(PETS)
    (root / "swagger.json").write_text(json.dumps({"swagger": "2.0", "paths": {}}))
    (root / "docker-compose.yml").write_text("services: {db: {image: postgres}}\n")
    (root / "node_modules" / "lib" / "openapi.yaml").write_text(PETS)
    (tmp_path / "outside.yaml").write_text(PETS)
    os.symlink(tmp_path / "outside.yaml", root / "linked.yaml")
    (root / "huge.yaml").write_text("openapi: 3.0.0\npaths: {}\n" + "#" * (3 * 1024 * 1024))
    found = spec_documents(root)
    assert [path for path, _ in found] == ["spec/openapi.yaml", "swagger.json"]
    assert found[0][1] == PETS
    assert [path for path, _ in spec_documents(root, ("spec",))] == ["swagger.json"]


# ---- GraphQL ------------------------------------------------------------------------------------------------

GRAPHENE = """
    import graphene
    from graphene import relay

    class BookType(graphene.ObjectType):
        title = graphene.String()

    def find_books(root, info, author):
        return []

    class Query(graphene.ObjectType):
        book = graphene.Field(BookType, book_id=graphene.Int())
        books = graphene.List(BookType, author=graphene.String(), resolver=find_books)

        def resolve_book(self, info, book_id):
            return None

        @staticmethod
        def resolve_shelf_count(root, info, **filters):
            return 0

    class BaseQuery(Query):
        def resolve_newest(parent, info):
            return None

    class Borrow(graphene.Mutation):
        class Arguments:
            book_id = graphene.Int()

        def mutate(self, info, book_id):
            return Borrow()

    class Unmounted(graphene.Mutation):
        def mutate(root, info, reason=None):
            return Unmounted()

    class Renew(relay.ClientIDMutation):
        @classmethod
        def mutate_and_get_payload(cls, root, info, **payload):
            return Renew()

    class Mutation(graphene.ObjectType):
        borrow_book = Borrow.Field()
        renew_loan = Renew.Field()

    class NotGraphQL:
        def resolve_thing(self, info, x):
            return x

        def mutate(self, info, x):
            return x
"""


def test_graphene_resolvers_and_mutations_are_entry_points_named_by_their_field():
    found = entries(GRAPHENE)
    assert found == {
        "find_books": [EntryPoint("graphql", "Query.books", inputs=("author",))],
        "Query.resolve_book": [EntryPoint("graphql", "Query.book", inputs=("book_id",))],
        "Query.resolve_shelf_count": [EntryPoint("graphql", "Query.shelfCount", inputs=("filters",))],
        "BaseQuery.resolve_newest": [EntryPoint("graphql", "BaseQuery.newest")],
        "Borrow.mutate": [EntryPoint("graphql", "Mutation.borrowBook", inputs=("book_id",))],
        "Unmounted.mutate": [EntryPoint("graphql", "Mutation.unmounted", inputs=("reason",))],
        "Renew.mutate_and_get_payload": [EntryPoint("graphql", "Mutation.renewLoan", inputs=("payload",))],
    }


def test_strawberry_fields_and_mutations_are_entry_points():
    found = entries("""
        import strawberry
        from strawberry.types import Info

        def all_books(genre: str) -> list[str]:
            return []

        @strawberry.type
        class Query:
            books: list[str] = strawberry.field(resolver=all_books)
            title: str = strawberry.field(description="not resolved by a function")

            @strawberry.field
            def book(self, info: Info, book_id: int) -> str:
                return ""

        @strawberry.type
        class Mutation:
            @strawberry.mutation(name="returnBook")
            async def give_back(self, loan_id: int, info: strawberry.Info) -> bool:
                return True

        @strawberry.mutation
        def add_book(title: str, root) -> bool:
            return True
    """)
    assert found == {
        "all_books": [EntryPoint("graphql", "Query.books", inputs=("genre",), required=("genre",))],
        "Query.book": [EntryPoint("graphql", "Query.book", inputs=("book_id",), required=("book_id",))],
        "Mutation.give_back": [EntryPoint("graphql", "Mutation.returnBook", inputs=("loan_id",),
                                          required=("loan_id",))],
        "add_book": [EntryPoint("graphql", "Mutation.addBook", inputs=("title",), required=("title",))],
    }


def test_ariadne_bindings_are_entry_points():
    found = entries("""
        from ariadne import MutationType, ObjectType, QueryType
        from registry import Things

        query = QueryType()
        mutation = ObjectType("Mutation")
        things = Things()

        @mutation.field("renewLoan")
        def resolve_renew(obj, info, loanId, days=7):
            return True

        def resolve_loans(_, info, **filters):
            return []

        query.set_field("loans", resolve_loans)

        @things.field("notGraphQL")
        def not_a_resolver(obj, info, x):
            return x
    """)
    assert found == {
        "resolve_renew": [EntryPoint("graphql", "Mutation.renewLoan", inputs=("loanId", "days"))],
        "resolve_loans": [EntryPoint("graphql", "Query.loans", inputs=("filters",))],
    }


CONTEXT_READS = """
    import graphene
    from ariadne import MutationType
    from models import Loan

    mutation = MutationType()

    class Query(graphene.ObjectType):
        def resolve_by_attribute(self, info, loan_id):
            return Loan.query.filter_by(id=loan_id, member_id=info.context.user.id).first()

        def resolve_by_item(self, info, loan_id):
            return Loan.query.filter_by(id=loan_id, member_id=info.context["user_id"]).first()

        def resolve_by_get(self, info, loan_id):
            return Loan.query.filter_by(id=loan_id, member_id=info.context.get("member")).first()

        def resolve_through_a_name(self, info, loan_id):
            member = info.context.member
            return Loan.query.filter_by(id=loan_id, member_id=member.id).first()

        def resolve_other_context_data(self, info, loan_id):
            return Loan.query.filter_by(id=loan_id, member_id=info.context.settings).first()

        def resolve_from_parent(root, info, loan_id):
            return Loan.query.filter_by(id=loan_id, member_id=root.context.user).first()

    @mutation.field("renew")
    def resolve_renew(obj, graphql_info, loanId):
        return Loan.query.filter_by(id=loanId, member_id=graphql_info.context.user).first()

    def not_a_resolver(info, loan_id):
        return Loan.query.filter_by(id=loan_id, member_id=info.context.user).first()
"""


@pytest.mark.parametrize("function, identity", [
    ("Query.resolve_by_attribute", True), ("Query.resolve_by_item", True), ("Query.resolve_by_get", True),
    ("Query.resolve_through_a_name", True), ("resolve_renew", True),
    ("Query.resolve_other_context_data", False), ("Query.resolve_from_parent", False), ("not_a_resolver", False),
])
def test_the_caller_comes_from_the_info_context_of_a_resolver(function, identity):
    (op,) = functions(facts_of(CONTEXT_READS))[function].ops
    assert op.keys["member_id"].identity is identity
    assert not op.keys["id"].identity


def test_graphql_library_fixture_resolvers_see_client_arguments_and_the_caller():
    """The corpus app `graphql_library`: every resolver is an entry point, and `info.context.member.id` is the
    caller in the ownership check of `resolve_my_loan`."""
    corpus = Path(__file__).parent / "corpus" / "graphql_library"
    schema = (corpus / "schema.py").read_text()
    found = functions(extract(ast.parse(schema), schema, "schema.py", "schema"))
    assert {name for name, f in found.items() if f.entry_points} == {
        "Query.resolve_loan", "Query.resolve_my_loan", "Query.resolve_books_by", "BorrowBook.mutate",
        "PayFine.mutate"}
    (read,) = found["Query.resolve_my_loan"].ops
    assert read.keys["member_id"].identity and read.keys["id"].params == {"loan_id"}
