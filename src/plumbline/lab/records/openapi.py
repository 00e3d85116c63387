"""The OpenAPI 3.1 document of the records API: the hardened contract, served by both twins."""

from __future__ import annotations

UUID_PATTERN = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
RECORD_ID_EXAMPLE = "3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b"
MAX_AMOUNT = 10**12


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _ok(description: str, schema_ref: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}}}


def _body(schema_ref: str, *, required: bool = True) -> dict:
    return {
        "required": required,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}},
    }


RECORD_ID_PARAMETER = {
    "name": "record_id",
    "in": "path",
    "required": True,
    "description": "A record id returned by `POST /records`; only the caller's own records are found.",
    "schema": {"type": "string", "format": "uuid", "pattern": UUID_PATTERN},
    "example": RECORD_ID_EXAMPLE,
}

UNAUTHORIZED = _error("Missing, malformed or unknown bearer token.")
BAD_REQUEST = _error("The body is not a JSON object.")
INVALID = _error("The body does not match the schema; `detail` lists the violations.")
NOT_FOUND = _error("No such record in the caller's partition.")

SPEC: dict = {
    "openapi": "3.1.0",
    "info": {
        "title": "plumbline lab: records",
        "version": "1.0.0",
        "description": (
            "Per-user versioned records with balances on DynamoDB; per-user aggregates maintained by a "
            "DynamoDB Streams consumer. Served identically by the vulnerable and the hardened twin; "
            "this document is the hardened contract."
        ),
    },
    "servers": [{"url": "/"}],
    "security": [{"bearer": []}],
    "paths": {
        "/users": {
            "post": {
                "operationId": "CreateUser",
                "summary": "Register a user and receive its bearer token (shown once).",
                "security": [],
                "requestBody": _body("NewUser"),
                "responses": {
                    "201": _ok("Registered.", "UserCreated"),
                    "400": BAD_REQUEST,
                    "409": _error("The email is already registered."),
                    "422": INVALID,
                },
            }
        },
        "/me": {
            "get": {
                "operationId": "GetMe",
                "summary": "The caller's user.",
                "responses": {
                    "200": _ok("The caller.", "User"),
                    "401": UNAUTHORIZED,
                    "404": _error("The token's user no longer exists."),
                },
            }
        },
        "/records": {
            "get": {
                "operationId": "ListRecords",
                "summary": "The caller's records.",
                "responses": {
                    "200": {
                        "description": "Every record in the caller's partition.",
                        "content": {
                            "application/json": {
                                "schema": {"type": "array", "items": {"$ref": "#/components/schemas/Record"}}
                            }
                        },
                    },
                    "401": UNAUTHORIZED,
                },
            },
            "post": {
                "operationId": "CreateRecord",
                "summary": "Create a record in the caller's partition; the server assigns its id.",
                "requestBody": _body("NewRecord"),
                "responses": {
                    "201": {
                        **_ok("Created.", "RecordCreated"),
                        "links": {
                            "GetRecord": {
                                "operationId": "GetRecord",
                                "parameters": {"record_id": "$response.body#/record_id"},
                            },
                            "IncrementRecord": {
                                "operationId": "IncrementRecord",
                                "parameters": {"record_id": "$response.body#/record_id"},
                            },
                            "TransferFromRecord": {
                                "operationId": "TransferBetweenRecords",
                                "requestBody": {"source_record_id": "{$response.body#/record_id}"},
                                "description": "The new record as the source of a transfer.",
                            },
                            "TransferToRecord": {
                                "operationId": "TransferBetweenRecords",
                                "requestBody": {"target_record_id": "{$response.body#/record_id}"},
                                "description": "The new record as the target of a transfer.",
                            },
                        },
                    },
                    "400": BAD_REQUEST,
                    "401": UNAUTHORIZED,
                    "422": INVALID,
                },
            },
        },
        "/records/{record_id}": {
            "get": {
                "operationId": "GetRecord",
                "summary": "One of the caller's records.",
                "parameters": [RECORD_ID_PARAMETER],
                "responses": {"200": _ok("The record.", "Record"), "401": UNAUTHORIZED, "404": NOT_FOUND},
            }
        },
        "/records/{record_id}/increment": {
            "post": {
                "operationId": "IncrementRecord",
                "summary": "Add `by` (default 1) to the record's version, atomically.",
                "parameters": [RECORD_ID_PARAMETER],
                "requestBody": _body("Increment", required=False),
                "responses": {
                    "200": _ok("The new version.", "Incremented"),
                    "400": BAD_REQUEST,
                    "401": UNAUTHORIZED,
                    "404": NOT_FOUND,
                    "422": INVALID,
                },
            }
        },
        "/records/transfer": {
            "post": {
                "operationId": "TransferBetweenRecords",
                "summary": "Move `amount` from one of the caller's records to another, all or nothing.",
                "requestBody": _body("Transfer"),
                "responses": {
                    "200": _ok("Both balances after the transfer.", "TransferResult"),
                    "400": _error("Not a JSON object, or source and target are the same record."),
                    "401": UNAUTHORIZED,
                    "404": _error("The source or the target is not one of the caller's records."),
                    "409": _error("The source balance does not cover the amount."),
                    "422": INVALID,
                },
            }
        },
        "/aggregates": {
            "get": {
                "operationId": "GetAggregates",
                "summary": "The caller's record count and balance total, as maintained by the stream consumer.",
                "responses": {"200": _ok("The caller's aggregates (zeros before the first record).", "Aggregates"), "401": UNAUTHORIZED},
            }
        },
        "/openapi.json": {
            "get": {
                "operationId": "GetOpenAPI",
                "summary": "This document.",
                "security": [],
                "responses": {"200": {"description": "The OpenAPI document.", "content": {"application/json": {"schema": {"type": "object"}}}}},
            }
        },
    },
    "components": {
        "securitySchemes": {
            "bearer": {
                "type": "http",
                "scheme": "bearer",
                "description": "The token returned by `POST /users`; the server keeps only its SHA-256 digest.",
            }
        },
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error"],
                "properties": {"error": {"type": "string"}, "detail": {}},
            },
            "NewUser": {
                "type": "object",
                "additionalProperties": False,
                "required": ["email", "name"],
                "properties": {
                    "email": {"type": "string", "format": "email", "minLength": 3, "maxLength": 254},
                    "name": {"type": "string", "minLength": 1, "maxLength": 100},
                },
            },
            "UserCreated": {
                "type": "object",
                "required": ["id", "token"],
                "properties": {"id": {"type": "string", "format": "uuid"}, "token": {"type": "string"}},
            },
            "User": {
                "type": "object",
                "required": ["id", "email", "name"],
                "properties": {
                    "id": {"type": "string", "format": "uuid"},
                    "email": {"type": "string"},
                    "name": {"type": "string"},
                },
            },
            "NewRecord": {
                "type": "object",
                "additionalProperties": False,
                "required": ["version", "timestamp", "data"],
                "properties": {
                    "version": {"type": "integer", "minimum": 0, "maximum": 10**12},
                    "timestamp": {
                        "type": "string",
                        "format": "date-time",
                        "maxLength": 64,
                        "description": "ISO-8601 with a timezone offset.",
                    },
                    "data": {
                        "type": "object",
                        "description": "Any JSON object up to 16 KiB encoded and 16 levels deep.",
                    },
                    "balance": {"type": "integer", "minimum": 0, "maximum": MAX_AMOUNT, "default": 0},
                },
            },
            "RecordCreated": {
                "type": "object",
                "required": ["record_id"],
                "properties": {"record_id": {"type": "string", "format": "uuid"}},
            },
            "Record": {
                "type": "object",
                "required": ["user_id", "record_id", "version", "timestamp", "data", "balance"],
                "properties": {
                    "user_id": {"type": "string", "format": "uuid"},
                    "record_id": {"type": "string", "format": "uuid"},
                    "version": {"type": "integer", "minimum": 0},
                    "timestamp": {"type": "string", "format": "date-time"},
                    "data": {"type": "object"},
                    "balance": {"type": "integer", "minimum": 0},
                },
            },
            "Increment": {
                "type": "object",
                "additionalProperties": False,
                "properties": {"by": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 1}},
            },
            "Incremented": {
                "type": "object",
                "required": ["record_id", "version"],
                "properties": {"record_id": {"type": "string", "format": "uuid"}, "version": {"type": "integer"}},
            },
            "Transfer": {
                "type": "object",
                "additionalProperties": False,
                "required": ["source_record_id", "target_record_id", "amount"],
                "properties": {
                    "source_record_id": {"type": "string", "format": "uuid", "pattern": UUID_PATTERN},
                    "target_record_id": {"type": "string", "format": "uuid", "pattern": UUID_PATTERN},
                    "amount": {"type": "integer", "minimum": 1, "maximum": MAX_AMOUNT},
                },
            },
            "RecordBalance": {
                "type": "object",
                "required": ["record_id", "balance"],
                "properties": {"record_id": {"type": "string", "format": "uuid"}, "balance": {"type": "integer", "minimum": 0}},
            },
            "TransferResult": {
                "type": "object",
                "required": ["source", "target"],
                "properties": {
                    "source": {"$ref": "#/components/schemas/RecordBalance"},
                    "target": {"$ref": "#/components/schemas/RecordBalance"},
                },
            },
            "Aggregates": {
                "type": "object",
                "required": ["user_id", "record_count", "balance_total"],
                "properties": {
                    "user_id": {"type": "string", "format": "uuid"},
                    "record_count": {"type": "integer", "minimum": 0},
                    "balance_total": {"type": "integer", "minimum": 0},
                },
            },
        },
    },
}
