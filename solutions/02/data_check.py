"""A data-quality checker for verl RL parquet files (reference solution).

Run it: ``python -m verlings.tools.check_data FILE [--max-prompt-length N]`` (the course tool,
built on this file) or ``python exercises/02/data_check.py FILE`` (yours).
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


def _read_rows(path: Path) -> tuple[list[dict], list[str]]:
    if not path.exists():
        raise DataCheckError(f"{path}: no such file")
    if path.is_dir():
        raise DataCheckError(f"{path}: is a folder, expected a .parquet file")
    size = path.stat().st_size
    if size == 0:
        raise DataCheckError(f"{path}: the file is empty (0 bytes)")
    with path.open("rb") as f:
        head = f.read(4)
        f.seek(max(0, size - 4))
        tail = f.read(4)
    if head != b"PAR1":
        raise DataCheckError(f"{path}: not a parquet file (it does not start with PAR1; CSV or JSON renamed?)")
    if tail != b"PAR1":
        raise DataCheckError(f"{path}: corrupt or truncated parquet file (no PAR1 footer)")
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError, ValueError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataCheckError(f"{path}: corrupt parquet file ({first_line})") from None
    return table.to_pylist(), table.column_names


def _is_messages(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str) for m in value
    )


def _token_count(tokenizer: Any, messages: list[dict]) -> int:
    # Count exactly what verl counts: the chat template with the generation prompt.
    ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
    if hasattr(ids, "keys"):  # transformers >= 5 returns a BatchEncoding
        ids = ids["input_ids"]
    return len(ids)


def _spread(values: list[int]) -> dict[str, float]:
    return {"min": min(values), "mean": statistics.fmean(values), "max": max(values)}


def check_dataset(path: str | os.PathLike, tokenizer: Any = None, max_prompt_length: int | None = None) -> Report:
    if max_prompt_length is not None and tokenizer is None:
        raise ValueError("max_prompt_length counts tokens: pass a tokenizer too")
    path = Path(path)
    rows, columns = _read_rows(path)
    report = Report(path=str(path), num_rows=len(rows), columns=list(columns))
    add = report.problems.append
    if not rows:
        add(Problem("no_rows", None, None, "the file has no rows"))
    for name in REQUIRED_COLUMNS:
        if name not in columns:
            add(Problem("missing_column", None, name, f"required column {name!r} is missing"))

    seen: dict[str, int] = {}
    sources: dict[str, int] = {}
    chars: list[int] = []
    tokens: list[int] = []
    for i, row in enumerate(rows):
        if "data_source" in columns:
            source = row["data_source"]
            if isinstance(source, str) and source:
                sources[source] = sources.get(source, 0) + 1
            else:
                add(Problem("bad_type", i, "data_source", f"data_source must be a non-empty string, got {source!r}"))
        if "prompt" in columns:
            prompt = row["prompt"]
            if not _is_messages(prompt):
                add(Problem("bad_type", i, "prompt", "prompt must be a list of {role, content} messages, "
                            f"got {type(prompt).__name__}"))
            elif not prompt:
                add(Problem("empty_prompt", i, "prompt", "prompt has no messages"))
            else:
                bad_roles = sorted({m["role"] for m in prompt} - set(ROLES))
                if bad_roles:
                    add(Problem("bad_role", i, "prompt", f"unknown role(s) {bad_roles}; expected one of {list(ROLES)}"))
                if any(not m["content"].strip() for m in prompt):
                    add(Problem("empty_prompt", i, "prompt", "a message has empty content"))
                key = json.dumps(prompt, sort_keys=True, ensure_ascii=False)
                if key in seen:
                    add(Problem("duplicate_prompt", i, "prompt", f"same prompt as row {seen[key]}"))
                else:
                    seen[key] = i
                chars.append(sum(len(m["content"]) for m in prompt))
                if tokenizer is not None:
                    n = _token_count(tokenizer, prompt)
                    tokens.append(n)
                    # verl keeps prompts with length <= max_prompt_length and drops the rest
                    if max_prompt_length is not None and n > max_prompt_length:
                        add(Problem("prompt_too_long", i, "prompt",
                                    f"{n} tokens > max_prompt_length {max_prompt_length}: verl would drop it"))
        if "reward_model" in columns:
            reward_model = row["reward_model"]
            if not isinstance(reward_model, dict):
                add(Problem("bad_type", i, "reward_model", f"reward_model must be a dict, got {reward_model!r}"))
            elif reward_model.get("ground_truth") in (None, ""):
                add(Problem("missing_ground_truth", i, "reward_model", "reward_model has no ground_truth"))
        if "extra_info" in columns and row["extra_info"] is not None and not isinstance(row["extra_info"], dict):
            add(Problem("bad_type", i, "extra_info", "extra_info must be a dict"))

    report.stats["rows"] = len(rows)
    report.stats["data_sources"] = sources
    if chars:
        report.stats["prompt_chars"] = _spread(chars)
    if tokens:
        report.stats["prompt_tokens"] = _spread(tokens)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="check_data", description="Check a verl RL parquet file.")
    parser.add_argument("file")
    parser.add_argument("--max-prompt-length", type=int, default=None)
    parser.add_argument("--tokenizer", default=None, help="tokenizer folder (AutoTokenizer.from_pretrained)")
    args = parser.parse_args(argv)
    if args.max_prompt_length is not None and args.tokenizer is None:
        print("error: --max-prompt-length needs --tokenizer PATH", file=sys.stderr)
        return 2
    tokenizer = None
    if args.tokenizer is not None:
        from transformers import AutoTokenizer

        try:
            tokenizer = AutoTokenizer.from_pretrained(args.tokenizer)
        except Exception as exc:  # one line, never a traceback
            print(f"error: cannot load tokenizer {args.tokenizer}: {type(exc).__name__}", file=sys.stderr)
            return 2
    try:
        report = check_dataset(args.file, tokenizer=tokenizer, max_prompt_length=args.max_prompt_length)
    except DataCheckError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(report.summary())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
