"""Pristine stubs and ``python grader.py reset ID``.

The course ships every stub as it was written in ``verlings/data/stubs.zip``
(maintainers refresh it with ``python -m verlings.stubs --sync``; a meta-test
checks it matches ``exercises/``), so a reset works in a zip download or after
the learner committed over their files.

``reset 03.gae`` puts back only the functions/classes of that exercise, keeping
the learner's other work in the same module; the whole file is first copied to
``.verlings/backups/<chapter>/<module>.py.<timestamp>``. A file that no longer
parses is restored whole (after the same backup).
"""

from __future__ import annotations

import ast
import io
import shutil
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from verlings.chapters import Exercise
from verlings.paths import EXERCISES, ROOT, STATE_DIR, chapter_ids

ARCHIVE = Path(__file__).resolve().parent / "data" / "stubs.zip"


def stub_files() -> list[Path]:
    """Learner-editable modules: every non-test ``.py`` in ``exercises/NN/``."""
    return sorted(
        p for c in chapter_ids() for p in (EXERCISES / c).glob("*.py")
        if not p.name.startswith("test_") and p.name != "conftest.py"
    )


def pristine(chapter: str, module: str) -> str:
    name = f"{chapter}/{module}.py"
    with zipfile.ZipFile(ARCHIVE) as zf:
        try:
            return zf.read(name).decode("utf-8")
        except KeyError:
            raise FileNotFoundError(f"no pristine stub for {name} in {ARCHIVE.name}") from None


def build_archive() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in stub_files():
            info = zipfile.ZipInfo(f"{path.parent.name}/{path.name}", date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
    return buf.getvalue()


def archive_differences() -> list[str]:
    """Stubs whose shipped pristine copy differs from ``exercises/`` (for maintainers)."""
    problems = []
    with zipfile.ZipFile(ARCHIVE) as zf:
        shipped = set(zf.namelist())
        for path in stub_files():
            name = f"{path.parent.name}/{path.name}"
            if name not in shipped:
                problems.append(f"{name} missing from {ARCHIVE.name}")
            elif zf.read(name) != path.read_bytes():
                problems.append(f"{name} differs from {ARCHIVE.name}")
            shipped.discard(name)
        problems += [f"{name} is in {ARCHIVE.name} but not in exercises/" for name in sorted(shipped)]
    return problems


def _top_level_spans(source: str) -> dict[str, tuple[int, int]]:
    """name -> (first line incl. decorators, last line), 1-based, for top-level defs/classes."""
    spans = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            spans[node.name] = (first, node.end_lineno or node.lineno)
    return spans


def replace_definitions(current: str, original: str, names: tuple[str, ...]) -> str:
    """``current`` with the top-level definitions ``names`` taken from ``original``."""
    orig_lines = original.splitlines(keepends=True)
    orig_spans = _top_level_spans(original)
    lines = current.splitlines(keepends=True)
    spans = _top_level_spans(current)
    # Replace bottom-up so earlier line numbers stay valid.
    for name in sorted((n for n in names if n in spans), key=lambda n: spans[n][0], reverse=True):
        if name not in orig_spans:
            continue
        a, b = spans[name]
        oa, ob = orig_spans[name]
        lines[a - 1 : b] = orig_lines[oa - 1 : ob]
    text = "".join(lines)
    for name in names:
        if name not in spans and name in orig_spans:
            oa, ob = orig_spans[name]
            text = text.rstrip("\n") + "\n\n\n" + "".join(orig_lines[oa - 1 : ob])
    return text


@dataclass
class ResetResult:
    path: Path
    backup: Path | None
    whole_file: bool


def reset(exercise: Exercise, root: Path = EXERCISES, state_dir: Path = STATE_DIR) -> ResetResult:
    path = root / exercise.chapter / f"{exercise.module}.py"
    original = pristine(exercise.chapter, exercise.module)
    backup = None
    if path.exists():
        backup_dir = state_dir / "backups" / exercise.chapter
        backup_dir.mkdir(parents=True, exist_ok=True)
        backup = backup_dir / f"{path.name}.{time.strftime('%Y%m%d-%H%M%S')}"
        n = 1
        while backup.exists():
            backup = backup.with_name(f"{path.name}.{time.strftime('%Y%m%d-%H%M%S')}-{n}")
            n += 1
        shutil.copy2(path, backup)
        current = path.read_text(encoding="utf-8")
        try:
            restored, whole = replace_definitions(current, original, exercise.functions), False
        except SyntaxError:
            restored, whole = original, True
    else:
        restored, whole = original, True
    path.write_text(restored, encoding="utf-8")
    return ResetResult(path, backup, whole)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["--sync"]:
        ARCHIVE.parent.mkdir(parents=True, exist_ok=True)
        ARCHIVE.write_bytes(build_archive())
        print(f"wrote {ARCHIVE.relative_to(ROOT)} ({len(stub_files())} stubs)")
        return 0
    problems = archive_differences()
    print("\n".join(problems) if problems else "stubs.zip matches exercises/")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
