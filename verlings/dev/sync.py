"""``python -m verlings.dev sync [--check] [--no-goldens]``: every file derived from the course, in one go.

Three kinds of file are generated, never edited by hand:

* golden arrays ``exercises/NN/_snapshots/*.npz``, made by verl itself (:mod:`verlings.goldens`);
* pristine stubs ``verlings/data/stubs.zip`` that ``grader.py reset`` restores (:mod:`verlings.stubs`);
* the verify manifest ``verlings/data/manifest.json``, hashes of graded tests and harness
  (:mod:`verlings.manifest`) — written last, as it hashes what the two steps before may change.

``sync`` rewrites them in that order; ``sync --check`` writes nothing and fails, naming each stale
file, when any differs from what ``sync`` would write. Goldens import verl and run it (seconds per
chapter): ``--no-goldens`` leaves them out.
"""

from __future__ import annotations

import argparse
import sys

from verlings import manifest, stubs
from verlings.paths import ROOT, chapter_ids


def stale(goldens: bool = True) -> list[str]:
    """One line per derived file that ``sync`` would change (empty when all are current)."""
    problems = [f"stubs.zip: {line}" for line in stubs.archive_differences()]
    result = manifest.verify()
    for label, files in (("edited", result.edited), ("missing", result.missing), ("added", result.added)):
        problems += [f"manifest.json: {rel} {label} since it was written" for rel in files]
    if goldens:
        from verlings import goldens as goldens_mod

        for chapter in chapter_ids():
            for maker in goldens_mod.makers(chapter):
                problems += [f"goldens {chapter}: {line}" for line in goldens_mod.differences(maker)]
    return problems


def write(goldens: bool = True) -> list[str]:
    """Regenerate the derived files; one line per file or group written."""
    done: list[str] = []
    if goldens:
        from verlings import goldens as goldens_mod

        for chapter in chapter_ids():
            for maker in goldens_mod.makers(chapter):
                goldens_mod.write(maker)
                done.append(f"wrote exercises/{chapter}/_snapshots/{maker.name}.npz")
    stubs.ARCHIVE.parent.mkdir(parents=True, exist_ok=True)
    stubs.ARCHIVE.write_bytes(stubs.build_archive())
    done.append(f"wrote {stubs.ARCHIVE.relative_to(ROOT)} ({len(stubs.stub_files())} stubs)")
    done.append(f"wrote {manifest.MANIFEST.relative_to(ROOT)} ({manifest.write()} files)")
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m verlings.dev sync", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; fail if a derived file is stale")
    parser.add_argument("--no-goldens", action="store_true", help="leave out the goldens (they run verl)")
    args = parser.parse_args(argv)
    if args.check:
        problems = stale(goldens=not args.no_goldens)
        print("\n".join(problems) if problems else "sync --check: every derived file is current")
        if problems:
            print("refresh with `python -m verlings.dev sync`", file=sys.stderr)
        return 1 if problems else 0
    print("\n".join(write(goldens=not args.no_goldens)))
    return 0
