"""The one data model every engine emits and every output format reads.

The JSON document (`plumbline/findings@1`) is a public interface: CI systems parse it.
Change it only by adding optional fields; anything else needs a new schema version.
See docs/findings.md.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field

from plumbline import __version__

SCHEMA_ID = "plumbline/findings@1"

Severity = Literal["critical", "high", "medium", "low", "info"]
Confidence = Literal["high", "medium", "low"]
Engine = Literal["scan", "probe", "audit"]

SEVERITIES: tuple[Severity, ...] = ("critical", "high", "medium", "low", "info")


def severity_rank(severity: Severity) -> int:
    """Higher is worse: critical is 4, info is 0."""
    return len(SEVERITIES) - 1 - SEVERITIES.index(severity)


def at_least(severity: Severity, threshold: Severity) -> bool:
    return severity_rank(severity) >= severity_rank(threshold)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_serialization_defaults_required=True)


class SourceLocation(_Strict):
    """A place in source code; `path` is relative to the scanned root."""

    kind: Literal["source"] = "source"
    path: str
    line: int = Field(ge=1)
    column: int = Field(default=1, ge=1)
    end_line: int | None = Field(default=None, ge=1)


class HttpLocation(_Strict):
    """An API operation; `route` is the OpenAPI path template, `url` the request actually sent."""

    kind: Literal["http"] = "http"
    method: str
    route: str
    url: str


class SchemaLocation(_Strict):
    """A table, or a column of one, in a live database or a schema file."""

    kind: Literal["schema"] = "schema"
    table: str
    column: str | None = None


Location = Annotated[Union[SourceLocation, HttpLocation, SchemaLocation], Field(discriminator="kind")]


class Finding(_Strict):
    rule_id: str = Field(pattern=r"^PL\d{3}$")
    rule_name: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    severity: Severity
    confidence: Confidence
    engine: Engine
    location: Location
    message: str
    cwe: tuple[int, ...] = ()
    owasp: str | None = Field(default=None, pattern=r"^API([1-9]|10):2023$")
    fix: str = ""
    evidence: dict[str, Any] = Field(default_factory=dict)


ErrorKind = Literal["skipped", "internal", "interrupted"]


class ToolError(_Strict):
    """Something an engine could not use, and why; the run went on without it.

    `kind`: `skipped` for a stated reason (binary, too large, unreachable...), `internal` for a bug in plumbline,
    `interrupted` for a run stopped before its end. After `internal` or `interrupted` the result may be incomplete."""

    engine: Engine | None = None
    target: str
    message: str
    kind: ErrorKind = "skipped"


CoverageStatus = Literal["ran", "skipped"]


class Coverage(_Strict):
    """What one check did with one operation: ran (and on what), or skipped (and why).

    `operation` is `METHOD /route`; `check` the check's name, `rules` the rules it reports; `note` says on what
    object the check worked (`a created object`, `a listed object`...) or why it was skipped (`no object to work
    on`, `no read-back found`, `needs --active`, `needs two identities`)."""

    engine: Engine
    operation: str
    check: str
    rules: tuple[str, ...] = ()
    status: CoverageStatus
    note: str = ""


class Tool(_Strict):
    name: Literal["plumbline"] = "plumbline"
    version: str = __version__


class FindingsDocument(_Strict):
    schema_: Literal["plumbline/findings@1"] = Field(default=SCHEMA_ID, alias="schema")
    tool: Tool = Field(default_factory=Tool)
    findings: tuple[Finding, ...] = ()
    errors: tuple[ToolError, ...] = ()
    coverage: tuple[Coverage, ...] = ()  # optional: engines that do not report coverage leave it empty
    # optional: the directory the scan read (absolute), to which source locations are relative; null elsewhere
    root: str | None = None

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, json_schema_serialization_defaults_required=True
    )

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.model_dump(mode="json", by_alias=True), indent=indent, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> "FindingsDocument":
        return cls.model_validate_json(text)

    @classmethod
    def read_leniently(cls, data: Any) -> "FindingsDocument":
        """A parsed JSON document as this version reads it: fields it does not know (a later plumbline's: within
        @1 fields are only added) are ignored, as docs/findings.md asks of every reader; any other fault raises
        ValidationError."""
        return cls.model_validate(known_fields(cls, data))

    def worst_severity(self) -> Severity | None:
        if not self.findings:
            return None
        return max((f.severity for f in self.findings), key=severity_rank)


def known_fields(model: Any, data: Any) -> Any:
    """`data` with the keys that `model` (a findings model, or a type of one's fields) does not define dropped, at
    every depth; what is not a model's is left as it is, for validation to judge."""
    origin, arguments = get_origin(model), get_args(model)
    if origin is Annotated:
        return known_fields(arguments[0], data)
    if origin is Union and isinstance(data, dict):  # a location: the member its `kind` names
        chosen = [m for m in arguments if isinstance(m, type) and issubclass(m, BaseModel)
                  and m.model_fields.get("kind") is not None and m.model_fields["kind"].default == data.get("kind")]
        return known_fields(chosen[0], data) if chosen else data
    if origin is tuple and isinstance(data, list):
        return [known_fields(arguments[0], item) for item in data]
    if isinstance(model, type) and issubclass(model, BaseModel) and isinstance(data, dict):
        fields = {field.alias or name: field.annotation for name, field in model.model_fields.items()}
        return {key: known_fields(fields[key], value) for key, value in data.items() if key in fields}
    return data


def json_schema() -> dict:
    """JSON Schema of the document as plumbline writes it (docs/findings.schema.json)."""
    schema = FindingsDocument.model_json_schema(by_alias=True, mode="serialization")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


if __name__ == "__main__":
    print(json.dumps(json_schema(), indent=2))
