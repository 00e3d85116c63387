"""The probe's configuration file: identities described by how they obtain their credentials.

Read from `--config FILE`, else from the first `plumbline.toml` or `pyproject.toml` found in the current
directory or above it. In `plumbline.toml` the section is `[probe]`, in `pyproject.toml` it is
`[tool.plumbline.probe]`. `${NAME}` in any string is the environment variable NAME, so that passwords and
tokens stay out of files; every value taken from the environment, and every login body field named like a
password or a token, is a secret: the redactor knows it from the start. Errors name the file and the key,
never a value.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from plumbline.configfile import ConfigError, read_toml
from plumbline.probe.auth import (
    SECRET_FIELD,
    Auth,
    ConfigModel,
    Identity,
    Login,
    LoginSpec,
    check_name,
)

CONFIG_NAMES = ("plumbline.toml", "pyproject.toml")
ENVIRONMENT_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class StaticHeader(ConfigModel):
    header: str  # "Authorization: Bearer ${ALICE_TOKEN}"


def identity(name: str, raw: Any, secrets: list[str]) -> Auth:
    """The identity `name` described by `raw`: a static `header` line, or a login flow (see `LoginSpec`).
    ValueError or ValidationError when the description cannot be used."""
    check_name(name)
    if not isinstance(raw, dict):
        raise ValueError("must be a table")
    if "header" in raw:
        return Identity.parse(f"{name}={StaticHeader.model_validate(raw).header}")
    return Login(name, LoginSpec.model_validate(raw), secrets)


def find(start: Path) -> tuple[Path, bool] | None:
    """The configuration file nearest to `start` (itself or a parent), and whether it is a pyproject.toml."""
    for directory in (start, *start.parents):
        for name in CONFIG_NAMES:
            if (directory / name).is_file():
                return directory / name, name == "pyproject.toml"
    return None


def load(path: Path | None) -> dict[str, Auth]:
    """The identities of the configuration at `path` (else the nearest one), in the file's order."""
    if path is None:
        found = find(Path.cwd().absolute())
        if found is None:
            return {}
        path, in_pyproject = found
    else:
        in_pyproject = path.name == "pyproject.toml"
    data = read_toml(path)
    section = "tool.plumbline.probe" if in_pyproject else "probe"
    raw: Any = data
    for key in section.split("."):
        raw = raw.get(key, {}) if isinstance(raw, dict) else None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: [{section}] must be a table")
    secrets: dict[str, list[str]] = {}
    expanded = _expand(raw, (), secrets, path, section)
    unknown = sorted(set(expanded) - {"identities"})
    if unknown:
        raise ConfigError(f"{path}: [{section}] {unknown[0]}: unknown key (the probe reads `identities`)")
    identities = expanded.get("identities", {})
    if not isinstance(identities, dict):
        raise ConfigError(f"{path}: [{section}] identities: must be a table")
    auths = {}
    for name, description in identities.items():
        where = f"{path}: [{section}] identities.{name}"
        try:
            auths[name] = identity(name, description, secrets.get(name, []))
        except ValidationError as exc:
            problem = exc.errors()[0]
            key = ".".join(str(part) for part in problem["loc"])
            raise ConfigError(f"{where}{'.' + key if key else ''}: {problem['msg'].removeprefix('Value error, ')}"
                              ) from None
        except ValueError as exc:
            raise ConfigError(f"{where}: {exc}") from None
    return auths


def _expand(value: Any, where: tuple[str, ...], secrets: dict[str, list[str]], path: Path, section: str) -> Any:
    """`value` with `${NAME}` replaced from the environment; the secrets found, by identity (where[1])."""
    if isinstance(value, dict):
        return {key: _expand(item, (*where, str(key)), secrets, path, section) for key, item in value.items()}
    if isinstance(value, list):
        return [_expand(item, where, secrets, path, section) for item in value]
    if not isinstance(value, str):
        return value
    identity = where[1] if len(where) > 1 and where[0] == "identities" else None

    def environment(match: re.Match) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise ConfigError(f"{path}: [{section}] {'.'.join(where)}: environment variable {name} is not set")
        if identity and os.environ[name]:
            secrets.setdefault(identity, []).append(os.environ[name])
        return os.environ[name]

    expanded = ENVIRONMENT_REFERENCE.sub(environment, value)
    if identity and "body" in where and SECRET_FIELD.search(where[-1]) and expanded:
        secrets.setdefault(identity, []).append(expanded)
    return expanded
