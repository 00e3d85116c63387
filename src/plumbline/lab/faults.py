"""Fault injection for the lab: crash a handler at a named point, as a power cut or a bug would.

A request that carries `X-Lab-Fault: <point>` raises `InjectedFault` when the handler reaches
`fault_point(<point>)`. The vulnerable twins have already committed part of their work there;
the hardened twins roll all of it back.
"""

from flask import has_request_context, request

FAULT_HEADER = "X-Lab-Fault"


class InjectedFault(RuntimeError):
    pass


def fault_point(name: str) -> None:
    if has_request_context() and request.headers.get(FAULT_HEADER) == name:
        raise InjectedFault(f"fault injected at {name}")
