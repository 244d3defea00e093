"""Tamper check: a committed checksum manifest of the graded tests and the harness.

``python grader.py verify`` compares the files with ``verlings/data/manifest.json``
and names every edited, missing or added file (an added ``conftest.py`` or
``test_*.py`` under ``exercises/`` could change grading too). Maintainers refresh
the manifest with ``python -m verlings.manifest --write`` after changing tests.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from verlings.paths import ROOT

MANIFEST = Path(__file__).resolve().parent / "data" / "manifest.json"

# What grading depends on: graded tests, their data, the harness, and the files that configure pytest.
PATTERNS = (
    "exercises/*/test_*.py",
    "exercises/*/conftest.py",
    "exercises/*/chapter.toml",
    "exercises/*/_snapshots/*",
    "verlings/**/*.py",
    "conftest.py",
    "grader.py",
    "pyproject.toml",
)


def protected_files(root: Path = ROOT) -> list[str]:
    found = {p for pattern in PATTERNS for p in root.glob(pattern) if p.is_file() and "__pycache__" not in p.parts}
    return sorted(str(p.relative_to(root)) for p in found)


def digest(path: Path) -> str:
    # Line endings normalised so a Windows checkout (autocrlf) does not look tampered with.
    return hashlib.sha256(path.read_bytes().replace(b"\r\n", b"\n")).hexdigest()


def build(root: Path = ROOT) -> dict[str, str]:
    return {rel: digest(root / rel) for rel in protected_files(root)}


@dataclass
class Verification:
    edited: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.edited or self.missing or self.added)


def verify(root: Path = ROOT, manifest: Path = MANIFEST) -> Verification:
    expected: dict[str, str] = json.loads(manifest.read_text(encoding="utf-8"))["files"]
    result = Verification()
    present = set(protected_files(root))
    for rel, sha in sorted(expected.items()):
        if rel not in present:
            result.missing.append(rel)
        elif digest(root / rel) != sha:
            result.edited.append(rel)
    result.added = sorted(present - set(expected))
    return result


def write(root: Path = ROOT, manifest: Path = MANIFEST) -> int:
    files = build(root)
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps({"version": 1, "files": files}, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return len(files)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["--write"]:
        print(f"wrote {MANIFEST.relative_to(ROOT)} ({write()} files)")
        return 0
    result = verify()
    for label, files in (("edited", result.edited), ("missing", result.missing), ("added", result.added)):
        for rel in files:
            print(f"{label}: {rel}")
    print("verify: ok" if result.ok else "verify: the graded tests or the harness were changed")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
