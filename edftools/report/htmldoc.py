"""Self-contained HTML and Markdown building blocks.

Every string that reaches a document (space names, sweep names, parameters, numbers) goes
through :func:`esc` (HTML) or :func:`md_cell` (Markdown), so a space called ``<script>`` is
shown as text, never run. Figures are embedded as base64 PNG ``data:`` URIs and the page carries
a Content-Security-Policy that allows no script and no network request: a report opens offline.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Sequence
from typing import Any

_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

_CSS = """
body { font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 1300px;
       color: #222; line-height: 1.4; padding: 0 1em; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: right; }
th { background: #f2f2f2; }
td:first-child, th:first-child { text-align: left; }
caption { caption-side: bottom; text-align: left; font-size: 0.85em; color: #555;
          padding-top: 0.4em; }
figure { margin: 1em 0; }
figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 0.85em; color: #555; }
.verdict-improves { color: #1a7f37; font-weight: bold; }
.verdict-worse { color: #cf222e; font-weight: bold; }
.verdict-inconclusive { color: #9a6700; }
code { background: #f6f8fa; padding: 0 0.2em; }
"""


def esc(value: Any) -> str:
    """HTML-escape ``str(value)`` (``& < > " '``)."""
    return html.escape(str(value), quote=True)


def heading(text: str, level: int = 2) -> str:
    """``<hN>`` with escaped text."""
    return f"<h{level}>{esc(text)}</h{level}>"


def paragraph(text: str) -> str:
    """``<p>`` with escaped text."""
    return f"<p>{esc(text)}</p>"


def bullet_list(items: Sequence[str]) -> str:
    """``<ul>`` of escaped items."""
    return "<ul>" + "".join(f"<li>{esc(i)}</li>" for i in items) + "</ul>"


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    caption: str = "",
    table_id: str = "",
    verdict_column: int | None = None,
) -> str:
    """An HTML table, every header and cell escaped; ``caption`` becomes the footnote.

    ``verdict_column`` (an index) gets a CSS class named after the cell's verdict word.
    """
    tid = f' id="{esc(table_id)}"' if table_id else ""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for j, cell in enumerate(row):
            cls = ""
            if j == verdict_column:
                word = str(cell).split(" ")[0] if str(cell) else ""
                cls = f' class="verdict-{esc(word)}"' if word.isalpha() else ""
            cells.append(f"<td{cls}>{esc(cell)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return (
        f'<table{tid} class="report-table">{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def figure(png: bytes, caption: str, alt: str = "") -> str:
    """A ``<figure>`` with the PNG embedded as a base64 data URI and an escaped caption."""
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<figure><img class="report-figure" src="data:image/png;base64,{data}" '
        f'alt="{esc(alt or caption)}"><figcaption>{esc(caption)}</figcaption></figure>'
    )


def document(title: str, blocks: Sequence[str]) -> str:
    """A complete HTML page: escaped title, inline CSS, CSP (no scripts, no network)."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        f"<title>{esc(title)}</title><style>{_CSS}</style></head>\n<body>\n"
        f"<h1>{esc(title)}</h1>\n" + "\n".join(blocks) + "\n</body></html>\n"
    )


def md_text(value: Any) -> str:
    """Text for Markdown that reads the same on a terminal: no HTML entities, and no raw HTML
    once rendered. CommonMark starts raw HTML only at ``<`` followed by a letter, ``/``, ``!``
    or ``?``, and an entity only at ``&name;`` or ``&#…;``: those two are backslash-escaped
    (``\\<script>``, ``\\&amp;``), everything else (``p<1e-4``, ``a & b``, ``≥``) is left as it is.
    """
    text = _HTML_START.sub(r"\\<", str(value))
    return _ENTITY_START.sub(r"\\&", text)


_HTML_START = re.compile(r"<(?=[A-Za-z/!?])")
_ENTITY_START = re.compile(r"&(?=#?[A-Za-z0-9]+;)")


def md_cell(value: Any) -> str:
    """A Markdown table cell: newlines flattened, ``>=``/``<=`` as ``≥``/``≤``, ``|`` escaped,
    HTML starts escaped as in :func:`md_text` (no entities)."""
    text = " ".join(str(value).split()).replace(">=", "≥").replace("<=", "≤")
    return md_text(text).replace("|", "\\|")


def md_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub-flavoured Markdown table (headers, separator, rows), cells via :func:`md_cell`."""
    lines = ["| " + " | ".join(md_cell(h) for h in headers) + " |"]
    lines.append("|" + "|".join("---" for _ in headers) + "|")
    lines += ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
