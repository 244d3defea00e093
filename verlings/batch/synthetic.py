"""Synthetic classes for the batch tests and benchmark: students whose scores are known in advance.

* ``reference``: every learner module from ``solutions/`` (all pass), as a whole-repository folder;
* ``stubs``: the pristine stubs, untouched (all fail), as bare ``NN/`` folders;
* ``half03``: chapter 03 half done (``masks`` and ``kl`` from the solutions, the rest stubs),
  as a zip of an ``exercises/`` folder.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from verlings.batch.intake import learner_modules
from verlings.batch.student import stub_bytes
from verlings.paths import SOLUTIONS

HALF_DONE_03 = ("03/masks.py", "03/kl.py")


def student_files(kind: str) -> dict[str, bytes]:
    modules = learner_modules()
    if kind == "reference":
        return {rel: (SOLUTIONS / rel).read_bytes() for rel in modules}
    if kind == "stubs":
        return {rel: stub_bytes(rel) for rel in modules}
    if kind == "half03":
        return {rel: (SOLUTIONS / rel).read_bytes() if rel in HALF_DONE_03 else stub_bytes(rel) for rel in modules}
    raise ValueError(f"unknown synthetic student {kind!r}")


def write_folder(dest: Path, files: dict[str, bytes], prefix: str = "") -> Path:
    for rel, data in files.items():
        path = dest / prefix / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return dest


def write_zip(dest: Path, files: dict[str, bytes], prefix: str = "") -> Path:
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        for rel, data in sorted(files.items()):
            zf.writestr(prefix + rel, data)
    return dest


def make_class(folder: Path, size: int = 3) -> Path:
    """``size`` students cycling through reference / stubs / half03, each in a different layout."""
    folder.mkdir(parents=True, exist_ok=True)
    kinds = ("reference", "stubs", "half03")
    for i in range(size):
        kind = kinds[i % 3]
        name = f"s{i + 1:02d}-{kind}"
        files = student_files(kind)
        if kind == "reference":
            write_folder(folder / name, files, prefix="exercises/")
            (folder / name / "README.md").write_text("my course repo\n", encoding="utf-8")
        elif kind == "stubs":
            write_folder(folder / name, files)
        else:
            write_zip(folder / f"{name}.zip", files, prefix=f"{name}-main/exercises/")
    return folder
