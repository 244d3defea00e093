"""Keys for ``watch``: single keys in cbreak mode on a terminal, else whole lines (``h⏎``)."""

from __future__ import annotations

import contextlib
import queue
import sys


@contextlib.contextmanager
def cbreak():
    """Single-key input on a terminal; no-op elsewhere."""
    if not sys.stdin.isatty():
        yield
        return
    import termios
    import tty

    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def read_keys(keys: queue.Queue) -> None:
    """Put each key pressed (lower-cased) on ``keys``; ``q`` when input ends."""
    while True:
        ch = sys.stdin.read(1)
        if not ch:
            keys.put("q")
            return
        if ch.strip():
            keys.put(ch.strip().lower())
