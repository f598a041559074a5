"""Text in the project's figures is drawn literally: a "$" in a location, covariate or signature name is a dollar
sign, never the start of matplotlib mathtext (whose parser fails on unbalanced or odd "$...$") or of LaTeX."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

# Read by matplotlib when a text is created; set only while the project's figures are built, so that a host
# application (Slicer) keeps its own settings.
LITERAL_TEXT = {"text.parse_math": False, "text.usetex": False}


@contextmanager
def literal_text() -> Iterator[None]:
    """Figures (titles, labels, legends, annotations) created inside the block draw their text literally."""
    import matplotlib

    with matplotlib.rc_context(LITERAL_TEXT):
        yield
