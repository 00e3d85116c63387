"""Findings documents read back from files (`plumbline report`), each failure as one line a user can act on."""

from __future__ import annotations

import stat
from pathlib import Path

from pydantic import ValidationError
from pydantic_core import from_json

from plumbline.findings import SCHEMA_ID, FindingsDocument
from plumbline.report.text import printable

MAX_BYTES = 256 * 2**20  # a findings document larger than this is not one plumbline wrote


class DocumentError(ValueError):
    """A file that is not a readable findings document; the message names the file and says why."""


def read_document(path: Path) -> FindingsDocument:
    name = printable(str(path))
    try:
        status = path.stat()
        if not stat.S_ISREG(status.st_mode):  # a FIFO or a device would block the read or never end
            raise DocumentError(f"{name}: not a regular file")
        if status.st_size > MAX_BYTES:
            raise DocumentError(f"{name}: larger than {MAX_BYTES // 2**20} MiB, not a findings document")
        data = path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"{name}: {(exc.strerror or 'cannot read').lower()}") from None
    try:
        parsed = from_json(data)  # pydantic's parser: strict JSON, a lone surrogate refused, no recursion limit hit
    except ValueError as exc:
        raise DocumentError(f"{name}: {printable(f'not JSON ({exc})')}") from None
    try:
        document = FindingsDocument.read_leniently(parsed)  # a later plumbline's added fields are ignored
    except ValidationError as exc:
        first = exc.errors()[0]
        if first["loc"] == ("schema",):
            reason = f"not a {SCHEMA_ID} document (its \"schema\" says otherwise)"
        else:
            place = ".".join(str(part) for part in first["loc"]) or "the document"
            reason = f"not a valid {SCHEMA_ID} document: {place}: {first['msg']}"
        raise DocumentError(f"{name}: {printable(reason)}") from None
    if "schema_" not in document.model_fields_set:  # every field has a default: `{}` would pass for an empty run
        raise DocumentError(f"{name}: not a {SCHEMA_ID} document (it has no \"schema\")")
    return document
