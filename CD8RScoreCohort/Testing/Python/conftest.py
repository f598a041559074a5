"""Make the two Qt-free packages importable from a source checkout (an installed package takes precedence)."""
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
for sub in ("CD8RScore", "CD8RScoreCohort"):
    path = str(REPO / sub)
    if path not in sys.path:
        sys.path.append(path)


