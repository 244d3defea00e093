"""Command-line tools built on the course's reference solutions (``python -m verlings.tools.<tool>``)."""
