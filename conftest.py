"""Root conftest: the course's pytest plug-in lives in verlings/pytest_plugin.py.

It is loaded through pyproject's addopts (`-p verlings.pytest_plugin`); this file
keeps the course root importable when verlings is not pip-installed.
"""

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parent)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
