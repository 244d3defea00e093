#!/usr/bin/env python
"""verlings grader — run `python grader.py --help` (thin wrapper over verlings.cli)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from verlings.cli import main

if __name__ == "__main__":
    sys.exit(main())
