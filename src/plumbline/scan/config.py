"""`[tool.plumbline]` in pyproject.toml, merged with the command line (the command line wins)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from plumbline.findings import Severity

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib


class ConfigError(Exception):
    """The configuration cannot be used; the message names the file and the key."""


class ScanConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    select: list[str] = Field(default_factory=lambda: ["ALL"])
    ignore: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    fail_on: Severity = Field(default="low", alias="fail-on")
    per_file_ignores: dict[str, list[str]] = Field(default_factory=dict, alias="per-file-ignores")
    backend: Literal["auto", "cockroachdb", "postgres"] = "auto"


def find_pyproject(start: Path) -> Path | None:
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
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    section = data.get("tool", {}).get("plumbline", {})
    try:
        return ScanConfig.model_validate(section), path
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'section'}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{path}: [tool.plumbline]: {problems}") from exc
