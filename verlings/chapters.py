"""Chapter metadata: one ordered ``exercises/NN/chapter.toml`` per chapter.

File order is course order. Example::

    format_version = 1

    [chapter]
    id = "03"
    title = { en = "RL algorithms", zh = "RL 算法" }

    [[exercises]]
    name = "gae"                       # exercise id is "03.gae"
    module = "advantages"
    functions = ["compute_gae_advantage_return"]
    points = 3
    section = "§2.2"                   # lesson section (README.md / README.zh-CN.md)
    title = { en = "GAE", zh = "GAE 优势估计" }

    [[exercises.hints]]                # 2–3, in reveal order
    en = "..."
    zh = "..."
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from verlings.i18n import LANGS, say
from verlings.paths import EXERCISES, chapter_ids

LESSON_FILE = {"en": "README.md", "zh": "README.zh-CN.md"}  # a chapter's lesson, per language


@dataclass(frozen=True)
class Hint:
    en: str
    zh: str

    def text(self, lang: str) -> str:
        return say({"en": self.en, "zh": self.zh}, lang)


@dataclass(frozen=True)
class Exercise:
    chapter: str
    name: str
    module: str
    functions: tuple[str, ...]
    points: int
    title: dict[str, str]
    hints: tuple[Hint, ...]
    section: str = ""
    difficulty: int = 1  # 1..3, shown by list as ● of 3
    minutes: int | None = None  # the time it is meant to take, shown by list only where chapter.toml gives it
    timeout_s: float | None = None  # seconds per graded test; None: the chapter's test_timeout_s

    @property
    def id(self) -> str:
        return f"{self.chapter}.{self.name}"

    def title_in(self, lang: str) -> str:
        return say(self.title, lang)

    def lesson(self, lang: str = "en") -> str:
        return f"exercises/{self.chapter}/{say(LESSON_FILE, lang)} {self.section}".strip()


@dataclass(frozen=True)
class Chapter:
    id: str
    title: dict[str, str]
    exercises: tuple[Exercise, ...] = field(default_factory=tuple)
    timeout_s: int = 600  # the whole chapter's process
    test_timeout_s: float | None = None  # one graded test (an exercise's timeout_s wins); None: pytest's ini
    # what the chapter teaches and leaves out ({"en": ..., "zh": ...}; empty if not given): shown by
    # list, watch's l, and watch when an exercise opens a chapter
    objectives: dict[str, str] = field(default_factory=dict)
    out_of_scope: dict[str, str] = field(default_factory=dict)

    def title_in(self, lang: str) -> str:
        return say(self.title, lang)

    @property
    def max_points(self) -> int:
        return sum(e.points for e in self.exercises)


class ChapterError(ValueError):
    """A chapter.toml that does not follow the format."""


def _bilingual(table: dict, where: str) -> dict[str, str]:
    if not isinstance(table, dict) or not all(isinstance(table.get(k), str) and table[k].strip() for k in LANGS):
        raise ChapterError(f"{where}: needs non-empty `en` and `zh` texts")
    return {k: table[k] for k in LANGS}


def parse_chapter(path: Path) -> Chapter:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    if data.get("format_version") != 1:
        raise ChapterError(f"{path}: format_version must be 1")
    meta = data.get("chapter", {})
    cid = meta.get("id")
    if cid != path.parent.name:
        raise ChapterError(f"{path}: chapter.id {cid!r} must match the folder name {path.parent.name!r}")
    exercises = []
    for i, raw in enumerate(data.get("exercises", [])):
        where = f"{path} exercise #{i + 1}"
        try:
            ex = Exercise(
                chapter=cid,
                name=raw["name"],
                module=raw["module"],
                functions=tuple(raw.get("functions", [])),
                points=int(raw.get("points", 1)),
                title=_bilingual(raw.get("title", {}), where + " title"),
                hints=tuple(Hint(**_bilingual(h, f"{where} hint")) for h in raw.get("hints", [])),
                section=raw.get("section", ""),
                difficulty=_difficulty(raw.get("difficulty", 1), where),
                minutes=int(raw["minutes"]) if "minutes" in raw else None,
                timeout_s=_seconds(raw.get("timeout_s"), where),
            )
        except KeyError as exc:
            raise ChapterError(f"{where}: missing key {exc}") from None
        exercises.append(ex)
    ids = [e.id for e in exercises]
    if len(set(ids)) != len(ids):
        raise ChapterError(f"{path}: exercise names must be unique")
    return Chapter(
        id=cid,
        title=_bilingual(meta.get("title", {}), f"{path} chapter title"),
        exercises=tuple(exercises),
        timeout_s=int(meta.get("timeout_s", 600)),
        test_timeout_s=_seconds(meta.get("test_timeout_s"), f"{path} chapter"),
        objectives=_bilingual(meta["objectives"], f"{path} objectives") if "objectives" in meta else {},
        out_of_scope=_bilingual(meta["out_of_scope"], f"{path} out_of_scope") if "out_of_scope" in meta else {},
    )


def _difficulty(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 3:
        raise ChapterError(f"{where}: difficulty must be 1, 2 or 3, not {value!r}")
    return value


def _seconds(value: object, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ChapterError(f"{where}: a time budget is a positive number of seconds, not {value!r}")
    return float(value)


@cache
def load_chapter(chapter_id: str) -> Chapter:
    return parse_chapter(EXERCISES / chapter_id / "chapter.toml")


def all_chapters() -> list[Chapter]:
    return [load_chapter(c) for c in chapter_ids()]


def find_exercise(exercise_id: str) -> Exercise:
    """Look up ``"03.gae"`` (or a bare unique name such as ``"gae"``)."""
    matches = [e for ch in all_chapters() for e in ch.exercises if exercise_id in (e.id, e.name)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise KeyError(f"{exercise_id!r} is ambiguous: {', '.join(e.id for e in matches)}")
    raise KeyError(f"{exercise_id!r} is not an exercise; {suggest(exercise_id)}")


def suggest(name: str) -> str:
    """``did you mean 03.gae?`` for a typo, else where the list of ids is (never all 60 of them)."""
    import difflib

    chapter, _, short = name.rpartition(".")
    by_name: dict[str, list[str]] = {}
    for ch in all_chapters():
        for e in ch.exercises:
            by_name.setdefault(e.name, []).append(e.id)
    close = [i for n in difflib.get_close_matches(short, list(by_name), n=3, cutoff=0.6) for i in by_name[n]]
    close.sort(key=lambda i: not i.startswith(f"{chapter}."))  # the chapter typed comes first
    if close:
        return "did you mean " + " or ".join(close[:3]) + "?"
    return "`python grader.py list` shows every exercise id"
