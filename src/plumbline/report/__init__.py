"""Output formats. Each reads a findings document and nothing else; none knows which engine made it."""

import re

FORMATS = ("text", "json", "sarif", "junit", "html")

# Characters that JSON writes as they are but a terminal acts on: DEL and the C1 controls (0x9b opens an escape
# sequence), bidirectional overrides and isolates (text shown in another order than it is read), and lone
# surrogates (the undecodable bytes of a file name, which no output encoding accepts). Text output escapes
# these and the C0 controls too.
ACTED_ON = "\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_RAW_IN_JSON = re.compile(f"[{ACTED_ON}]")


def terminal_safe_json(text: str) -> str:
    """JSON text with every character of ACTED_ON as a `\\u` escape: the same document, harmless on a terminal.

    Those characters can only be inside JSON strings, where `\\uXXXX` is their JSON spelling."""
    return _RAW_IN_JSON.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
