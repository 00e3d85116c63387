"""CockroachDB: how an app announces it (imports, URLs, hosts, ports), and its retrying transaction runners."""

from __future__ import annotations

import ast
import re

from plumbline.scan.models import TRANSACTION_RUNNERS, module_nodes

# sqlalchemy_cockroachdb.run_transaction, the legacy cockroachdb.sqlalchemy.run_transaction, and their kin in
# other drivers: each runs its callback in a transaction and retries it on SQLSTATE 40001.
TRANSACTION_RUNNERS.append(re.compile(r"(^|\.)(run_transaction|run_in_transaction)$"))
URL_MARKS = ("cockroachdb://", ":26257", "cockroachdb+", ".cockroachlabs.cloud")


@module_nodes(ast.Import)
def imported(node: ast.Import, ctx) -> None:
    if any("cockroach" in alias.name for alias in node.names):
        ctx.facts.backend_hints.add("cockroachdb")


@module_nodes(ast.ImportFrom)
def imported_from(node: ast.ImportFrom, ctx) -> None:
    if "cockroach" in (node.module or ""):
        ctx.facts.backend_hints.add("cockroachdb")


@module_nodes(ast.Constant)
def announced(node: ast.Constant, ctx) -> None:
    """A URL, a cloud host, the port (26257, or "26257" as a keyword string), a dialect name."""
    if node.value == 26257 and not isinstance(node.value, bool):
        ctx.facts.backend_hints.add("cockroachdb")
    if not isinstance(node.value, str):
        return
    lowered = node.value[:300].lower()
    if ("cockroach" in lowered or "26257" in lowered) and (  # (every mark holds one: most strings hold neither)
            any(mark in lowered for mark in URL_MARKS) or lowered.strip() in ("26257", "cockroachdb")):
        ctx.facts.backend_hints.add("cockroachdb")
    elif lowered.startswith(("postgresql://", "postgres://", "postgresql+")):
        ctx.facts.backend_hints.add("postgres")
