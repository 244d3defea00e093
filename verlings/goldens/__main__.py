"""``python -m verlings.goldens CHAPTER [--check]``: regenerate (or check) a chapter's golden files."""

from __future__ import annotations

import argparse
import sys

from verlings.goldens import differences, makers, write


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m verlings.goldens", description=__doc__)
    parser.add_argument("chapters", nargs="+", help="chapter numbers, e.g. 03")
    parser.add_argument("--check", action="store_true", help="only compare with the committed files")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="only these snapshots (e.g. gae grpo)")
    args = parser.parse_args(argv)
    failed = False
    for chapter in args.chapters:
        found = [m for m in makers(chapter) if not args.only or m.name in args.only]
        if not found:
            print(f"no golden makers for chapter {chapter}", file=sys.stderr)
            failed = True
        for maker in found:
            if args.check:
                problems = differences(maker)
                failed |= bool(problems)
                print(f"{chapter}/{maker.name}: " + ("; ".join(problems) if problems else "ok"))
            else:
                write(maker)
                print(f"wrote exercises/{chapter}/_snapshots/{maker.name}.npz")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
