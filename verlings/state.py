"""The learner's progress, kept human-readable in ``.verlings/state.json``.

Keyed by exercise id: last grading status, hints revealed. Only the default
target (``exercises/``) records progress; grading solutions or another folder
leaves the learner's state alone.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from verlings.paths import STATE_DIR

STATE_FILE = "state.json"


@dataclass
class Progress:
    status: dict[str, str] = field(default_factory=dict)  # "03.gae" -> passed / failed / ...
    hints: dict[str, int] = field(default_factory=dict)  # "03.gae" -> hints revealed
    graded_at: dict[str, float] = field(default_factory=dict)
    lang: str = "en"

    @classmethod
    def load(cls, folder: Path = STATE_DIR) -> Progress:
        path = folder / STATE_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return cls()
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def save(self, folder: Path = STATE_DIR) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / (STATE_FILE + ".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2, ensure_ascii=False, sort_keys=True), encoding="utf-8")
        tmp.replace(folder / STATE_FILE)

    def record(self, exercise_id: str, status: str) -> None:
        self.status[exercise_id] = status
        self.graded_at[exercise_id] = time.time()

    def reveal_hint(self, exercise_id: str, available: int) -> int:
        """Reveal one more hint (up to ``available``); returns how many are now shown."""
        shown = min(self.hints.get(exercise_id, 0) + 1, available)
        self.hints[exercise_id] = shown
        return shown
