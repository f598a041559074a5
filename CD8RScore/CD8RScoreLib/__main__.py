"""``python -m CD8RScoreLib``: the same command line as ``cd8rscore``."""
import sys

from .cli import main

sys.exit(main())
