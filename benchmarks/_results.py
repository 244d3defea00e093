"""What every benchmark result carries, and where ``--record NAME`` keeps it (one JSON file a script)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path


def finish(result: dict, load_start: float, results: Path, name: str | None) -> dict:
    """Add the load before and after and the time, print ``result``, and store it under ``name``."""
    result = {
        **result,
        "load_start": round(load_start, 1),
        "load_end": round(os.getloadavg()[0], 1),
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    print(json.dumps(result, indent=1))
    if name:
        stored = json.loads(results.read_text(encoding="utf-8")) if results.is_file() else {}
        stored[name] = result
        results.parent.mkdir(parents=True, exist_ok=True)
        results.write_text(json.dumps(stored, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return result
