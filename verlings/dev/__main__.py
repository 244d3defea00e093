"""``python -m verlings.dev COMMAND``: maintainer tools (learners never need them).

Commands:
    sync [--check] [--no-goldens]   regenerate goldens, pristine stubs and the verify manifest
    mutation CHAPTER|NN/MODULE ...  mutation score of the reference modules (mutmut operators)
    never-failing [NN ...] [--jobs N]  graded tests no known-wrong variant makes fail (docs/)
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command == "sync":
        from verlings.dev.sync import main as sync

        return sync(rest)
    if command == "mutation":
        from verlings.dev.mutation import main as mutation

        return mutation(rest)
    if command == "never-failing":
        from verlings.dev.never_failing import main as never_failing

        return never_failing(rest)
    print(f"unknown command {command!r}\n{__doc__}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
