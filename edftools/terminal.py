"""Text bound for a terminal: control characters made visible, never sent raw.

A name read from a file (a sweep, a space, a run id) may hold NUL, ESC or a newline; printed
raw it could move the cursor, recolour the terminal or fake a line of output.
"""

from __future__ import annotations


def printable(text: str) -> str:
    """``text`` with every non-printable character as its Python escape (``\\x1b``, ``\\n``).

    Printable characters (``str.isprintable``, plus the space) are kept as they are.
    """
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
