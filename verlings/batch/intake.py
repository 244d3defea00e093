"""Reading a class folder: one submission per entry, only the learner modules taken.

Each entry of the submissions folder is one student, named by the entry: a folder, or a
``.zip`` (named by its stem). Inside it the student's work may be the whole repository,
its ``exercises/`` folder, or bare ``NN/`` chapter folders, possibly wrapped in one more
folder (what "download as zip" makes). Only the learner modules the course knows
(``exercises/NN/*.py`` that are not tests or ``conftest.py``) are taken, like
``classroom/gradescope/run_autograder`` does; tests, ``conftest.py`` and ``chapter.toml``
always come from the course. Everything else is ignored, and a ``conftest.py`` or a pytest
configuration file in the submission is named in the student's notes.

A submission that cannot be read safely (a zip entry that escapes the folder, a zip that
expands beyond :data:`MAX_UNPACKED_BYTES`) is rejected with a reason, never unpacked.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from verlings.paths import EXERCISES, ROOT
from verlings.stubs import stub_files

# Learner code is a few hundred kB at most; a submission's zip may carry more (a repository
# with notebooks, a .git folder), but nothing legitimate expands beyond this.
MAX_UNPACKED_BYTES = 64 << 20
MAX_ZIP_ENTRIES = 20_000
MAX_MODULE_BYTES = 1 << 20  # one learner module; a bigger .py is not a hand-written exercise
# Files that would change how pytest runs if they were used (they never are: noted, then ignored).
PYTEST_CONFIG = ("conftest.py", "pytest.ini")

GRADED, EMPTY, REJECTED, CRASHED = "graded", "empty", "rejected", "crashed"


@dataclass
class Submission:
    """One student's work as the grader takes it: learner modules by ``NN/module.py``."""

    name: str
    files: dict[str, bytes] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    problem: str | None = None  # why it cannot be graded (rejected or empty)
    status: str = GRADED

    def digest(self, chapters: list[str], options: dict) -> str:
        """Key of a cached result: the taken files, the chapters asked for, options, the course's tests."""
        h = hashlib.sha256()
        h.update(json.dumps({"chapters": chapters, "options": options, "status": self.status,
                             "problem": self.problem, "notes": self.notes}, sort_keys=True).encode())
        for rel in sorted(self.files):
            h.update(rel.encode() + b"\0" + hashlib.sha256(self.files[rel]).digest())
        h.update(_course_digest())
        return h.hexdigest()


def _course_digest() -> bytes:
    """The committed manifest of graded tests and harness: a course update invalidates every cached result."""
    from verlings.manifest import MANIFEST

    return hashlib.sha256(MANIFEST.read_bytes()).digest() if MANIFEST.is_file() else b""


def learner_modules(chapters: list[str] | None = None) -> list[str]:
    """``NN/module.py`` of every learner-editable module of the course (of ``chapters`` only if given)."""
    names = [f"{p.parent.name}/{p.name}" for p in stub_files()]
    return [n for n in names if chapters is None or n.split("/")[0] in chapters]


def discover(folder: Path) -> list[Path]:
    """The entries of a submissions folder, one per student, in name order (hidden entries skipped)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"submissions folder {str(folder)!r} does not exist or is not a folder")
    return sorted((p for p in folder.iterdir() if not p.name.startswith(".")), key=lambda p: p.name)


def student_name(entry: Path) -> str:
    return entry.stem if entry.is_file() and entry.suffix.lower() == ".zip" else entry.name


def read_submission(entry: Path, chapters: list[str] | None = None) -> Submission:
    """Read one entry into a :class:`Submission`; problems end up in its ``problem``, never raised."""
    sub = Submission(student_name(entry))
    try:
        if entry.is_dir():
            tree = _DirTree(entry)
        elif entry.is_file() and entry.suffix.lower() == ".zip":
            tree = _ZipTree(entry)
        else:
            return _reject(sub, "not a folder or a .zip")
        _take(sub, tree, chapters)
    except _Unsafe as exc:
        return _reject(sub, str(exc))
    except (OSError, zipfile.BadZipFile, UnicodeDecodeError) as exc:
        return _reject(sub, f"cannot be read: {type(exc).__name__}: {exc}")
    if not sub.files:
        sub.status, sub.problem = EMPTY, "no learner module found (expected exercises/NN/*.py or NN/*.py)"
    return sub


def _reject(sub: Submission, why: str) -> Submission:
    sub.files.clear()
    sub.status, sub.problem = REJECTED, why
    return sub


class _Unsafe(Exception):
    """The submission cannot be unpacked safely."""


class _DirTree:
    """A submission folder, as relative POSIX paths; symbolic links are not followed."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.paths: list[str] = []
        for p in sorted(root.rglob("*")):
            if p.is_symlink():
                raise _Unsafe(f"contains a symbolic link ({p.relative_to(root).as_posix()}); submit plain files")
            if p.is_file():
                self.paths.append(p.relative_to(root).as_posix())

    def read(self, rel: str) -> bytes:
        path = self.root / rel
        if path.stat().st_size > MAX_MODULE_BYTES:
            raise _Unsafe(f"{rel} is larger than {MAX_MODULE_BYTES >> 20} MB")
        return path.read_bytes()


class _ZipTree:
    """A submission zip, checked before anything is read: no entry may leave the folder, and the
    declared sizes must stay under the cap (reading stops at the cap too, as sizes can lie)."""

    def __init__(self, path: Path) -> None:
        self.zf = zipfile.ZipFile(path)
        infos = self.zf.infolist()
        if len(infos) > MAX_ZIP_ENTRIES:
            raise _Unsafe(f"zip has {len(infos)} entries (more than {MAX_ZIP_ENTRIES})")
        total = 0
        self.paths = []
        for info in infos:
            name = info.filename.replace("\\", "/")
            parts = PurePosixPath(name).parts
            if name.startswith("/") or ".." in parts or (parts and parts[0].endswith(":")):
                raise _Unsafe(f"zip entry {info.filename!r} points outside the submission (path traversal)")
            if (info.external_attr >> 16) & 0o170000 == 0o120000:
                raise _Unsafe(f"zip entry {info.filename!r} is a symbolic link")
            total += info.file_size
            if total > MAX_UNPACKED_BYTES:
                raise _Unsafe(f"zip expands to more than {MAX_UNPACKED_BYTES >> 20} MB (zip bomb?)")
            if not info.is_dir():
                self.paths.append(name)
        self.budget = MAX_UNPACKED_BYTES

    def read(self, rel: str) -> bytes:
        limit = min(MAX_MODULE_BYTES, self.budget)
        with self.zf.open(rel) as f:
            data = f.read(limit + 1)
        if len(data) > limit:
            raise _Unsafe(f"{rel} expands beyond its declared size or {limit >> 20} MB (zip bomb?)")
        self.budget -= len(data)
        return data


def _base(paths: list[str]) -> str:
    """The folder inside the submission that holds the ``NN/`` chapter folders ('' = top)."""
    def has_chapters(prefix: str) -> bool:
        return any(p.startswith(prefix) and p[len(prefix):][:2].isdigit() and p[len(prefix):][2:3] == "/"
                   for p in paths)

    prefix = ""
    for _ in range(4):  # a repository inside a wrapper folder inside a zip is as deep as it gets
        if has_chapters(prefix + "exercises/"):
            return prefix + "exercises/"
        if has_chapters(prefix):
            return prefix
        tops = {p[len(prefix):].split("/", 1)[0] for p in paths if p.startswith(prefix) and "/" in p[len(prefix):]}
        if len(tops) != 1:
            break
        prefix += tops.pop() + "/"
    return prefix


def _take(sub: Submission, tree: _DirTree | _ZipTree, chapters: list[str] | None) -> None:
    base = _base(tree.paths)
    wanted = set(learner_modules(chapters))
    # The course's own conftest.py files come along with a whole-repository submission: only
    # ones that differ from the course's are worth a note.
    root = base[: -len("exercises/")] if base.endswith("exercises/") else None
    config = []
    for rel in tree.paths:
        if PurePosixPath(rel).name in PYTEST_CONFIG:
            ours = ROOT / rel[len(root):] if root is not None and rel.startswith(root) else \
                EXERCISES / rel[len(base):] if rel.startswith(base) else None
            if ours is None or not ours.is_file() or ours.read_bytes() != tree.read(rel):
                config.append(rel)
    if config:
        sub.notes.append("ignored (tests and their configuration come from the course): " + ", ".join(config))
    for rel in tree.paths:
        if rel.startswith(base) and rel[len(base):] in wanted:
            sub.files[rel[len(base):]] = tree.read(rel)
