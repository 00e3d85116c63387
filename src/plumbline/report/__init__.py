"""Output formats. Each reads a findings document and nothing else; none knows which engine made it."""

FORMATS = ("text", "json", "sarif")
