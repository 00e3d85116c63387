"""Reading a TOML configuration file (pyproject.toml, plumbline.toml) without ever a traceback.

Shared by the scan's `[tool.plumbline]` and the probe's `[tool.plumbline.probe]` / `[probe]`: both come from
files a user (or a scanned repository) wrote, so every problem becomes a `ConfigError` naming the file.
"""

from __future__ import annotations

import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

MAX_BYTES = 1024 * 1024  # a configuration is a few KiB; more is not a configuration


class ConfigError(Exception):
    """The configuration cannot be used; the message names the file and the key, never a secret value."""


def read_toml(path: Path) -> dict:
    """The document in `path`, or a ConfigError saying why it cannot be read."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            raise ConfigError(f"{path}: larger than {MAX_BYTES // 1024} KiB: not a configuration")
        return tomllib.loads(raw.decode("utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 (invalid byte at offset {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid TOML: nested too deeply") from None
