"""The OpenAPI 3.1 document of the bank API, served by both twins at GET /openapi.json.

It documents the hardened contract: what the API promises. The vulnerable twin serves the
same document and breaks it, which is what the probe engine looks for.
"""

from __future__ import annotations

from typing import Any

MAX_CENTS = 10**12
EXAMPLE_ACCOUNT_ID = "6f1c2b7e-3d4a-4c5b-9e8f-0a1b2c3d4e5f"
EXAMPLE_ORDER_ID = "0b9d7a2c-5e4f-4a3b-8c1d-2e3f4a5b6c7d"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _body(name: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(name)}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


def _path_id(name: str, example: str, what: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": f"The {what}'s id. A malformed id is a 404.",
        "schema": {"type": "string", "format": "uuid"},
        "example": example,
    }


UNAUTHORIZED = _error("Missing, malformed or unknown bearer token")
MALFORMED = _error("The body is not valid JSON")
UNSUPPORTED = _error("The body is not sent as application/json")
INVALID = _json(_ref("ValidationError"), "The body does not match the schema")

ACCOUNT_ID = _path_id("account_id", EXAMPLE_ACCOUNT_ID, "account")
ORDER_ID = _path_id("order_id", EXAMPLE_ORDER_ID, "order")

_ID = {"type": "string", "format": "uuid"}
_CENTS = {"type": "integer", "minimum": 0, "maximum": MAX_CENTS, "description": "Integer cents"}
TEXT = r"^[^\x00]*$"
EMAIL = r"^[^@\s\x00]+@[^@\s\x00]+$"
_AMOUNT = {"type": "integer", "minimum": 1, "maximum": MAX_CENTS, "description": "Integer cents"}

SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "plumbline lab bank",
        "version": "1.0.0",
        "description": (
            "A small bank on CockroachDB or PostgreSQL. Money is integer cents. Every account, order and "
            "session belongs to the user whose bearer token created it; other users' resources are 404."
        ),
    },
    "servers": [{"url": "/"}],
    "security": [{"bearerAuth": []}],
    "paths": {
        "/users": {
            "post": {
                "operationId": "CreateUser",
                "summary": "Register a user and receive a bearer token",
                "security": [],
                "requestBody": _body("NewUser"),
                "responses": {
                    "201": _json(_ref("Registration"), "Registered; the token is shown only once"),
                    "400": MALFORMED,
                    "409": _error("The email is already registered"),
                    "415": UNSUPPORTED,
                    "422": INVALID,
                },
            }
        },
        "/users/search": {
            "get": {
                "operationId": "SearchUsers",
                "summary": "Find users by exact email",
                "parameters": [
                    {
                        "name": "email",
                        "in": "query",
                        "required": True,
                        "schema": {"type": "string", "minLength": 1, "maxLength": 254, "pattern": TEXT},
                        "example": "alice@lab.example",
                    }
                ],
                "responses": {
                    "200": _json({"type": "array", "items": _ref("User")}, "Users with exactly this email"),
                    "400": _error("email is missing, empty or too long"),
                    "401": UNAUTHORIZED,
                },
            }
        },
        "/me": {
            "get": {
                "operationId": "GetMe",
                "summary": "The user the bearer token belongs to",
                "responses": {"200": _json(_ref("User"), "The caller"), "401": UNAUTHORIZED},
            }
        },
        "/accounts": {
            "post": {
                "operationId": "CreateAccount",
                "summary": "Open an account owned by the caller",
                "requestBody": _body("NewAccount"),
                "responses": {
                    "201": {
                        **_json(_ref("Created"), "Opened"),
                        "links": {
                            "GetAccount": {
                                "operationId": "GetAccount",
                                "parameters": {"account_id": "$response.body#/id"},
                            },
                            "Withdraw": {
                                "operationId": "Withdraw",
                                "parameters": {"account_id": "$response.body#/id"},
                            },
                            "TransferFrom": {
                                "operationId": "Transfer",
                                "requestBody": {"from_account": "$response.body#/id"},
                            },
                            "TransferTo": {
                                "operationId": "Transfer",
                                "requestBody": {"to_account": "$response.body#/id"},
                            },
                        },
                    },
                    "400": MALFORMED,
                    "401": UNAUTHORIZED,
                    "415": UNSUPPORTED,
                    "422": INVALID,
                },
            }
        },
        "/accounts/{account_id}": {
            "get": {
                "operationId": "GetAccount",
                "summary": "One of the caller's accounts",
                "parameters": [ACCOUNT_ID],
                "responses": {
                    "200": _json(_ref("Account"), "The account"),
                    "401": UNAUTHORIZED,
                    "404": _error("No such account, or it is not the caller's"),
                },
            }
        },
        "/accounts/{account_id}/withdraw": {
            "post": {
                "operationId": "Withdraw",
                "summary": "Withdraw from one of the caller's accounts",
                "parameters": [ACCOUNT_ID],
                "requestBody": _body("Withdrawal"),
                "responses": {
                    "200": _json(_ref("Balance"), "Withdrawn; the new balance"),
                    "400": MALFORMED,
                    "401": UNAUTHORIZED,
                    "404": _error("No such account, or it is not the caller's"),
                    "409": _error("Insufficient funds; nothing was withdrawn"),
                    "415": UNSUPPORTED,
                    "422": INVALID,
                },
            }
        },
        "/transfers": {
            "post": {
                "operationId": "Transfer",
                "summary": "Move money from one of the caller's accounts to any account, atomically",
                "requestBody": _body("Transfer"),
                "responses": {
                    "200": _json(_ref("TransferResult"), "Moved"),
                    "400": _error("The body is not valid JSON, or both accounts are the same"),
                    "401": UNAUTHORIZED,
                    "404": _error("from_account is not the caller's, or to_account does not exist"),
                    "409": _error("Insufficient funds; nothing was moved"),
                    "415": UNSUPPORTED,
                    "422": INVALID,
                },
            }
        },
        "/orders": {
            "post": {
                "operationId": "CreateOrder",
                "summary": "Place an order as the caller",
                "requestBody": _body("NewOrder"),
                "responses": {
                    "201": {
                        **_json(_ref("Created"), "Placed"),
                        "links": {
                            "GetOrder": {
                                "operationId": "GetOrder",
                                "parameters": {"order_id": "$response.body#/id"},
                            }
                        },
                    },
                    "400": MALFORMED,
                    "401": UNAUTHORIZED,
                    "415": UNSUPPORTED,
                    "422": INVALID,
                },
            }
        },
        "/orders/{order_id}": {
            "get": {
                "operationId": "GetOrder",
                "summary": "One of the caller's orders",
                "parameters": [ORDER_ID],
                "responses": {
                    "200": _json(_ref("Order"), "The order"),
                    "401": UNAUTHORIZED,
                    "404": _error("No such order, or it is not the caller's"),
                },
            }
        },
        "/sessions": {
            "put": {
                "operationId": "RefreshSession",
                "summary": "Record a refresh of the caller's session on a device (one session per device)",
                "requestBody": _body("SessionRefresh"),
                "responses": {
                    "200": _json(_ref("Session"), "The device's session after this refresh"),
                    "400": MALFORMED,
                    "401": UNAUTHORIZED,
                    "415": UNSUPPORTED,
                    "422": INVALID,
                },
            },
            "get": {
                "operationId": "ListSessions",
                "summary": "The caller's sessions, one per device",
                "responses": {
                    "200": _json({"type": "array", "items": _ref("Session")}, "The caller's sessions"),
                    "401": UNAUTHORIZED,
                },
            },
        },
        "/openapi.json": {
            "get": {
                "operationId": "GetOpenApi",
                "summary": "This document",
                "security": [],
                "responses": {"200": _json({"type": "object"}, "The OpenAPI document")},
            }
        },
    },
    "components": {
        "securitySchemes": {
            "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "description": "The token returned by CreateUser; the server stores only its SHA-256 digest.",
            }
        },
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error"],
                "properties": {"error": {"type": "string"}, "detail": {}},
            },
            "ValidationError": {
                "type": "object",
                "required": ["error", "detail"],
                "properties": {
                    "error": {"type": "string"},
                    "detail": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["loc", "msg", "type"],
                            "properties": {
                                "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                                "msg": {"type": "string"},
                                "type": {"type": "string"},
                            },
                        },
                    },
                },
            },
            "NewUser": {
                "type": "object",
                "required": ["email", "name"],
                "additionalProperties": False,
                "properties": {
                    "email": {"type": "string", "minLength": 3, "maxLength": 254, "pattern": EMAIL},
                    "name": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": TEXT},
                },
            },
            "Registration": {
                "type": "object",
                "required": ["id", "token"],
                "properties": {"id": _ID, "token": {"type": "string"}},
            },
            "User": {
                "type": "object",
                "required": ["id", "email", "name"],
                "properties": {"id": _ID, "email": {"type": "string"}, "name": {"type": "string"}},
            },
            "Created": {"type": "object", "required": ["id"], "properties": {"id": _ID}},
            "NewAccount": {
                "type": "object",
                "required": ["balance"],
                "additionalProperties": False,
                "properties": {"balance": _CENTS},
            },
            "Account": {
                "type": "object",
                "required": ["id", "owner_id", "balance"],
                "properties": {"id": _ID, "owner_id": _ID, "balance": _CENTS},
            },
            "Withdrawal": {
                "type": "object",
                "required": ["amount"],
                "additionalProperties": False,
                "properties": {"amount": _AMOUNT},
            },
            "Balance": {
                "type": "object",
                "required": ["id", "balance"],
                "properties": {"id": _ID, "balance": {"type": "integer", "minimum": 0}},
            },
            "Transfer": {
                "type": "object",
                "required": ["from_account", "to_account", "amount"],
                "additionalProperties": False,
                "properties": {
                    "from_account": {**_ID, "description": "One of the caller's accounts"},
                    "to_account": {**_ID, "description": "Any account other than from_account"},
                    "amount": _AMOUNT,
                },
            },
            "TransferResult": {
                "type": "object",
                "required": ["from_account", "to_account"],
                "properties": {
                    "from_account": _ref("Balance"),
                    "to_account": {
                        "type": "object",
                        "required": ["id", "balance"],
                        "properties": {
                            "id": _ID,
                            "balance": {
                                "type": ["integer", "null"],
                                "minimum": 0,
                                "description": "null unless the caller owns to_account",
                            },
                        },
                    },
                },
            },
            "NewOrder": {
                "type": "object",
                "required": ["amount"],
                "additionalProperties": False,
                "properties": {
                    "amount": _AMOUNT,
                    "note": {"type": ["string", "null"], "maxLength": 500, "pattern": TEXT},
                },
            },
            "Order": {
                "type": "object",
                "required": ["id", "user_id", "amount", "note"],
                "properties": {
                    "id": _ID,
                    "user_id": _ID,
                    "amount": _AMOUNT,
                    "note": {"type": ["string", "null"]},
                },
            },
            "SessionRefresh": {
                "type": "object",
                "required": ["device"],
                "additionalProperties": False,
                "properties": {"device": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": TEXT}},
            },
            "Session": {
                "type": "object",
                "required": ["id", "device", "refreshes"],
                "properties": {
                    "id": _ID,
                    "device": {"type": "string"},
                    "refreshes": {"type": "integer", "minimum": 1},
                },
            },
        },
    },
}
