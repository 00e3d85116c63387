"""`[tool.plumbline]` in pyproject.toml, merged with the command line (the command line wins).

The file belongs to the scanned tree, which may be hostile: it is read with a size limit, and any shape
of it that cannot be used is a `ConfigError` naming the file and the key, never a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from plumbline.configfile import ConfigError, read_toml
from plumbline.findings import Severity
from plumbline.rules import matching


def _known_rules(prefixes: list[str]) -> list[str]:
    unknown = [prefix for prefix in prefixes if not matching([prefix])]
    if unknown:
        raise ValueError(f"no rule matches {', '.join(map(repr, unknown))} (see `plumbline rules`)")
    return prefixes


class ScanConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    select: list[str] = Field(default_factory=lambda: ["ALL"])
    ignore: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    fail_on: Severity = Field(default="low", alias="fail-on")
    per_file_ignores: dict[str, list[str]] = Field(default_factory=dict, alias="per-file-ignores")
    backend: Literal["auto", "cockroachdb", "postgres"] = "auto"

    @field_validator("select", "ignore")
    @classmethod
    def _rules_exist(cls, prefixes: list[str]) -> list[str]:
        return _known_rules(prefixes)

    @field_validator("per_file_ignores")
    @classmethod
    def _ignored_rules_exist(cls, ignores: dict[str, list[str]]) -> dict[str, list[str]]:
        for prefixes in ignores.values():
            _known_rules(prefixes)
        return ignores


def find_pyproject(start: Path) -> Path | None:
    start = start.absolute()
    directory = start if start.is_dir() else start.parent
    for candidate in (directory, *directory.parents):
        path = candidate / "pyproject.toml"
        if path.is_file():
            return path
    return None


def load(start: Path) -> tuple[ScanConfig, Path | None]:
    path = find_pyproject(start)
    if path is None:
        return ScanConfig(), None
    data = read_toml(path)
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigError(f"{path}: [tool] must be a table, not {type(tool).__name__}")
    section = tool.get("plumbline", {})
    if isinstance(section, dict):  # [tool.plumbline.probe] is the probe's (probe/config.py)
        section = {key: value for key, value in section.items() if key != "probe"}
    try:
        return ScanConfig.model_validate(section), path
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'section'}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{path}: [tool.plumbline]: {problems}") from exc
