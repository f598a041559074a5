"""HTML pieces shared by the cohort report's sections: escaped text and tables whose numeric cells never wrap."""
from __future__ import annotations

import html


def escape(text) -> str:
    """Text of any value, HTML-escaped."""
    return html.escape(str(text))


def table(header: list[str], rows: list[list], text_columns: "set[int] | None" = None) -> str:
    """A table whose cells are HTML already; columns not in ``text_columns`` (default: all but the first) are
    numeric: right-aligned and never wrapped inside a number. Wrapped in a block that scrolls sideways."""
    text_columns = {0} if text_columns is None else text_columns
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" if i in text_columns else f"<td class='n'>{c}</td>"
                                    for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<div class='scroll'><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
