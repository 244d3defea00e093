"""A data-quality checker for verl RL parquet files — catch bad rows before a run, not after.

Lesson: exercises/02/README.md §2 (中文: README.zh-CN.md §2).
verl has no such checker: a bad row shows up as a KeyError deep inside a reward worker,
or worse, not at all: a prompt silently dropped by ``RLHFDataset``'s length filter, a string
prompt rendered as an empty conversation. This module is
the course's own tool. Try the reference one on any file:
``python -m verlings.tools.check_data FILE [--max-prompt-length N]``; run yours with
``python exercises/02/data_check.py FILE``.

Given (nothing to do): :class:`DataCheckError`, :class:`Problem`, :class:`Report` and the
vocabulary of problem codes in :data:`CODES`. To do: :func:`check_dataset` and :func:`main`.

Problem codes, one :class:`Problem` per finding (``row`` is the 0-based row, ``None`` for
the whole file; ``column`` the column concerned):

====================== =========================================================== =======
code                   when                                                        row
====================== =========================================================== =======
no_rows                the table has no rows                                       None
missing_column         one of :data:`REQUIRED_COLUMNS` is absent (one per column)  None
bad_type               data_source not a non-empty str; prompt not a list of       i
                       ``{"role": str, "content": str}`` dicts (e.g. a plain
                       string); reward_model not a dict; extra_info neither a
                       dict nor None
empty_prompt           prompt is ``[]``, or a message's content is blank           i
bad_role               a message's role is not in :data:`ROLES`                    i
missing_ground_truth   reward_model has no ``ground_truth``, or it is None / ""    i
duplicate_prompt       the same messages as an earlier row (flag the later row)    i
prompt_too_long        more than ``max_prompt_length`` tokens (see below)          i
====================== =========================================================== =======
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REQUIRED_COLUMNS = ("data_source", "prompt", "reward_model")
ROLES = ("system", "user", "assistant", "tool")
CODES = (
    "no_rows", "missing_column", "bad_type", "empty_prompt", "bad_role",
    "missing_ground_truth", "duplicate_prompt", "prompt_too_long",
)


class DataCheckError(ValueError):
    """The file cannot be read as a parquet table at all; the message is one line."""


@dataclass(frozen=True)
class Problem:
    """One finding: ``code`` (one of :data:`CODES`), ``row`` (0-based, ``None`` = whole file),
    ``column`` (or ``None``) and a human-readable ``message``."""

    code: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = "file" if self.row is None else f"row {self.row}"
        return f"{where}: [{self.code}] {self.message}"


@dataclass
class Report:
    """What :func:`check_dataset` found.

    ``ok`` is True when there is no problem; ``by_code("bad_role")`` lists the problems
    of one kind; ``summary()`` is the text the command line prints.
    """

    path: str
    num_rows: int
    columns: list[str]
    problems: list[Problem] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def by_code(self, code: str) -> list[Problem]:
        return [p for p in self.problems if p.code == code]

    def summary(self, limit: int = 20) -> str:
        lines = [f"{self.path}: {self.num_rows} rows, columns: {', '.join(self.columns) or '(none)'}"]
        for name in ("prompt_chars", "prompt_tokens"):
            if name in self.stats:
                s = self.stats[name]
                lines.append(f"  {name}: min {s['min']}  mean {s['mean']:.1f}  max {s['max']}")
        if self.stats.get("data_sources"):
            lines.append("  data_sources: " + ", ".join(f"{k} ({v})" for k, v in self.stats["data_sources"].items()))
        if self.ok:
            lines.append("OK: no problems found")
        else:
            lines.append(f"{len(self.problems)} problem(s):")
            lines += [f"  {p}" for p in self.problems[:limit]]
            if len(self.problems) > limit:
                lines.append(f"  ... and {len(self.problems) - limit} more")
        return "\n".join(lines)


def check_dataset(path: str | os.PathLike, tokenizer: Any = None, max_prompt_length: int | None = None) -> Report:
    """Read a verl RL parquet file and report what would go wrong in training.

    Args:
        path: the ``.parquet`` file.
        tokenizer: optional; a Hugging Face tokenizer with a chat template. When given,
            every valid prompt is measured in tokens exactly as verl's ``RLHFDataset``
            measures it: the number of token ids of the prompt's chat template, tokenized,
            with the generation prompt added (with transformers 5 the tokenizer returns a
            ``BatchEncoding``: count its ``input_ids``).
        max_prompt_length: optional; needs ``tokenizer`` (``ValueError`` otherwise). verl
            keeps prompts of ``<= max_prompt_length`` tokens and silently drops the others
            (with ``data.filter_overlong_prompts=True``; without it, the rollout cuts off their
            beginning): flag each longer prompt as ``prompt_too_long``.

    Returns:
        A :class:`Report`: ``path`` (``str(path)``), ``num_rows``, ``columns`` (the parquet
        column names, in file order), ``problems`` (every finding of the table above, in
        row order) and ``stats``:

        * ``"rows"``: the number of rows;
        * ``"data_sources"``: ``{data_source: count}`` over rows with a valid data_source;
        * ``"prompt_chars"``: ``{"min", "mean", "max"}`` of the total characters of the
          message contents, over rows whose prompt is a valid list of messages (absent
          when there is none);
        * ``"prompt_tokens"``: the same for token counts, only when a tokenizer is given.

    Raises:
        DataCheckError: the file cannot be read as parquet at all — missing path, a
            folder, an empty (0-byte) file, a CSV/JSON file renamed ``.parquet`` (a parquet
            file starts and ends with the 4 bytes ``PAR1``), a truncated or corrupt file.
            The message is **one line** naming the file and the reason. Never let a
            pyarrow exception escape: the user should read "not a parquet file", not a
            50-line traceback from C++.

    Example:
        >>> report = check_dataset("data/train.parquet")
        >>> report.ok, report.num_rows, [p.code for p in report.problems]
        (False, 100, ['duplicate_prompt'])
    """
    # TODO: your implementation (stuck? `python grader.py hint 02.check_dataset`).
    raise NotImplementedError("implement check_dataset — see exercises/02/README.md §2.1")


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python exercises/02/data_check.py FILE [--max-prompt-length N] [--tokenizer PATH]``.

    Args:
        argv: the arguments after the program name (``None``: ``sys.argv[1:]``, argparse's default).

    Returns:
        The exit status: ``0`` when the report has no problems, ``1`` when it has some
        (print ``report.summary()`` to stdout in both cases), ``2`` when the file cannot be
        read (:class:`DataCheckError`) or ``--max-prompt-length`` comes without
        ``--tokenizer``: then print exactly **one line** to stderr, ``error: <message>``, and
        no traceback. ``--tokenizer PATH`` is loaded with
        ``transformers.AutoTokenizer.from_pretrained(PATH)``.
    """
    # TODO: your implementation (stuck? `python grader.py hint 02.check_cli`).
    raise NotImplementedError("implement main — see exercises/02/README.md §2.4")


if __name__ == "__main__":
    sys.exit(main())
