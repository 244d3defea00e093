"""``python -m verlings.tools.check_data FILE [--max-prompt-length N] [--tokenizer PATH]``.

Checks a verl RL parquet file before a training run (chapter 02's data checker, reference
implementation from ``solutions/02/data_check.py``) and prints a report:

* exit 0: no problems; exit 1: problems found (listed on stdout);
* exit 2: the file cannot be read (missing, empty, not parquet, corrupt) — one line on
  stderr, ``error: <file>: <reason>``, never a traceback.

``--max-prompt-length N`` flags prompts longer than N tokens (verl's ``RLHFDataset`` would
drop them), counted with ``--tokenizer PATH`` or, by default, the course's local tokenizer
(:mod:`verlings.fixtures.tokenizer`). Your own implementation runs the same way with
``python exercises/02/data_check.py FILE``.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        from verlings.paths import SOLUTIONS
        from verlings.target import load_module

        data_check = load_module("02", "data_check", root=SOLUTIONS)
        if "--max-prompt-length" in " ".join(argv) and not any(a.startswith("--tokenizer") for a in argv):
            from verlings.fixtures.tokenizer import tokenizer_path

            argv += ["--tokenizer", str(tokenizer_path())]
        return data_check.main(argv)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the checker's own bug: still one line, never a traceback
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(f"error: {type(exc).__name__}: {message}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
