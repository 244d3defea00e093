"""``python -m verlings.tools.reward_report FILE [--reward MODULE:FN] [--top K] [--limit N] [--json]``.

Debug a reward function on real responses before (or after) training on it: score every row
of FILE, then print the score distribution, the mean of every component a dict reward returns,
the mean per ``data_source``, and the worst and best examples (chapter 04, §6).

FILE is a ``.parquet`` or ``.jsonl`` table with one response per row:

* response: the first column of ``response``, ``solution_str``, ``output`` (verl's
  ``trainer.rollout_data_dir`` dumps write ``output``);
* ground truth: ``ground_truth``, ``reward_model.ground_truth`` (verl's dataset schema) or
  ``gts`` (verl's dumps);
* optional: ``data_source``, ``extra_info`` (dict), a prompt (``prompt`` chat messages,
  ``input`` or ``question``), and ``score`` — the score logged during training; with
  ``--reward`` too, the report counts the rows where your function disagrees with it.

``--reward`` is ``path/to/file.py:function`` or ``package.module:function`` (``:compute_score``
when the function is left out); the function is called as verl calls it,
``fn(data_source=..., solution_str=..., ground_truth=..., extra_info=...)``, and may be
``async``. Without ``--reward`` the logged ``score`` column is reported.

Exit 0 on success; 2 with one line ``error: ...`` on stderr when the input or the reward
cannot be used (missing file, not a table, no response column, bad --reward); a reward that
raises on some rows is reported in the table (count and first messages), never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import importlib.util
import inspect
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESPONSE_COLUMNS = ("response", "solution_str", "output")
PROMPT_COLUMNS = ("prompt", "input", "question")
ASYNC_CONCURRENCY = 16


class ReportError(Exception):
    """Unusable input: reported as one line, exit code 2."""


# --- input ------------------------------------------------------------------------------------


def read_rows(path: Path) -> list[dict]:
    if not path.exists():
        raise ReportError(f"{path}: no such file")
    if path.is_dir():
        raise ReportError(f"{path}: is a folder, expected a .parquet or .jsonl file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            rows = pq.read_table(path).to_pylist()
        elif suffix in (".jsonl", ".json"):
            text = path.read_text(encoding="utf-8")
            if suffix == ".json" and text.lstrip().startswith("["):
                rows = json.loads(text)
            else:
                rows = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            raise ReportError(f"{path}: unknown file type {suffix or '(none)'!r}; use .parquet or .jsonl")
    except ReportError:
        raise
    except json.JSONDecodeError as exc:
        raise ReportError(f"{path}: not valid JSON lines ({exc.msg} at line {exc.lineno})") from None
    except Exception as exc:  # pyarrow's errors for corrupt or non-parquet files
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ReportError(f"{path}: cannot read as {suffix[1:]}: {first}") from None
    if not rows:
        raise ReportError(f"{path}: the file has no rows")
    if not all(isinstance(r, dict) for r in rows):
        raise ReportError(f"{path}: every row must be a table row / JSON object")
    return rows


def _first_key(row: dict, names: tuple[str, ...]) -> str | None:
    return next((n for n in names if n in row), None)


def _ground_truth(row: dict) -> Any:
    if "ground_truth" in row:
        return row["ground_truth"]
    reward_model = row.get("reward_model")
    if isinstance(reward_model, dict) and "ground_truth" in reward_model:
        return reward_model["ground_truth"]
    return row.get("gts")


def _prompt_text(row: dict) -> str:
    key = _first_key(row, PROMPT_COLUMNS)
    value = row.get(key) if key else None
    if isinstance(value, list):  # chat messages: show the last user turn
        users = [m.get("content", "") for m in value if isinstance(m, dict) and m.get("role") == "user"]
        return str(users[-1] if users else value[-1])
    return "" if value is None else str(value)


# --- the reward -------------------------------------------------------------------------------


def load_reward(spec: str) -> Callable:
    target, _, name = spec.partition(":")
    name = name or "compute_score"
    if not target:
        raise ReportError(f"--reward {spec!r}: expected MODULE:FUNCTION or path/to/file.py:FUNCTION")
    try:
        if target.endswith(".py") or "/" in target:
            path = Path(target).expanduser().resolve()
            if not path.is_file():
                raise ReportError(f"--reward {spec!r}: {path} does not exist")
            module_name = f"_verlings_reward_report_{abs(hash(str(path)))}"
            module_spec = importlib.util.spec_from_file_location(module_name, path)
            assert module_spec is not None and module_spec.loader is not None
            module = importlib.util.module_from_spec(module_spec)
            sys.modules[module_name] = module
            module_spec.loader.exec_module(module)
        else:
            module = importlib.import_module(target)
    except ReportError:
        raise
    except Exception as exc:
        raise ReportError(f"--reward {spec!r}: importing {target} failed: {type(exc).__name__}: {exc}") from None
    fn = getattr(module, name, None)
    if not callable(fn):
        found = sorted(n for n, v in vars(module).items() if inspect.isfunction(v) and not n.startswith("_"))
        raise ReportError(f"--reward {spec!r}: no function {name!r} in {target} (found: {', '.join(found) or 'none'})")
    return fn


def _as_score(result: Any) -> tuple[float, dict[str, float]]:
    if isinstance(result, dict):
        if "score" not in result:
            raise ValueError(f"a dict result needs a 'score' key, got keys {sorted(result)}")
        components = {k: float(v) for k, v in result.items() if k != "score" and _is_number(v)}
        return float(result["score"]), components
    return float(result), {}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | bool) or (hasattr(value, "item") and hasattr(value, "dtype"))


def score_rows(rows: list[dict], fn: Callable) -> list[dict]:
    """Call the reward on every row: [{"score": float|nan, "components": {...}, "error": str|None}, ...]."""

    def kwargs(row: dict) -> dict:
        response_key = _first_key(row, RESPONSE_COLUMNS)
        extra = row.get("extra_info")
        return {"data_source": row.get("data_source", "unknown"), "solution_str": str(row[response_key]),
                "ground_truth": _ground_truth(row), "extra_info": dict(extra) if isinstance(extra, dict) else {}}

    def outcome(result: Any = None, error: BaseException | None = None) -> dict:
        if error is None:
            try:
                score, components = _as_score(result)
                return {"score": score, "components": components, "error": None}
            except Exception as exc:
                error = exc
        return {"score": math.nan, "components": {}, "error": f"{type(error).__name__}: {error}"}

    if inspect.iscoroutinefunction(fn):

        async def run_all() -> list[dict]:
            semaphore = asyncio.Semaphore(ASYNC_CONCURRENCY)

            async def one(row: dict) -> dict:
                async with semaphore:
                    try:
                        return outcome(await fn(**kwargs(row)))
                    except Exception as exc:
                        return outcome(error=exc)

            return await asyncio.gather(*[one(r) for r in rows])

        return asyncio.run(run_all())
    results = []
    for row in rows:
        try:
            results.append(outcome(fn(**kwargs(row))))
        except Exception as exc:
            results.append(outcome(error=exc))
    return results


# --- the report -------------------------------------------------------------------------------


def _quantile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return math.nan
    pos = q * (len(sorted_values) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def summarise(rows: list[dict], results: list[dict], top: int = 3, logged: list[float] | None = None) -> dict:
    scores = [r["score"] for r in results if not math.isnan(r["score"])]
    ordered = sorted(scores)
    n = len(scores)
    mean = sum(scores) / n if n else math.nan
    std = math.sqrt(sum((s - mean) ** 2 for s in scores) / n) if n else math.nan
    summary: dict[str, Any] = {
        "rows": len(rows), "scored": n, "errors": len(rows) - n,
        "first_errors": [r["error"] for r in results if r["error"]][:3],
        "mean": mean, "std": std, "min": ordered[0] if n else math.nan, "max": ordered[-1] if n else math.nan,
        "p10": _quantile(ordered, 0.1), "p50": _quantile(ordered, 0.5), "p90": _quantile(ordered, 0.9),
        "distinct": len(set(scores)), "share_zero": sum(s == 0 for s in scores) / n if n else math.nan,
    }
    lo, hi = (ordered[0], ordered[-1]) if n else (0.0, 0.0)
    bins = 10 if hi > lo else 1
    counts = [0] * bins
    for s in scores:
        counts[min(int((s - lo) / (hi - lo) * bins), bins - 1) if hi > lo else 0] += 1
    summary["histogram"] = [{"from": lo + (hi - lo) * i / bins, "to": lo + (hi - lo) * (i + 1) / bins, "count": c}
                            for i, c in enumerate(counts)]
    components: dict[str, list[float]] = {}
    for r in results:
        for key, value in r["components"].items():
            components.setdefault(key, []).append(value)
    summary["components"] = {k: {"mean": sum(v) / len(v), "share_nonzero": sum(x != 0 for x in v) / len(v)}
                             for k, v in sorted(components.items())}
    by_source: dict[str, list[float]] = {}
    for row, r in zip(rows, results):
        if not math.isnan(r["score"]):
            by_source.setdefault(str(row.get("data_source", "unknown")), []).append(r["score"])
    summary["by_data_source"] = {k: {"rows": len(v), "mean": sum(v) / len(v)} for k, v in sorted(by_source.items())}

    def example(i: int) -> dict:
        row, r = rows[i], results[i]
        response_key = _first_key(row, RESPONSE_COLUMNS)
        return {"index": i, "score": r["score"], "components": r["components"],
                "ground_truth": str(_ground_truth(row)), "prompt": _prompt_text(row)[-120:],
                "response_tail": str(row[response_key])[-160:]}

    valid = [i for i, r in enumerate(results) if not math.isnan(r["score"])]
    by_score = sorted(valid, key=lambda i: (results[i]["score"], i))
    summary["worst"] = [example(i) for i in by_score[:top]]
    summary["best"] = [example(i) for i in reversed(by_score[-top:])] if top else []
    if logged is not None:
        disagree = [i for i in valid if logged[i] is not None and not math.isclose(results[i]["score"], logged[i],
                                                                                      rel_tol=1e-6, abs_tol=1e-6)]
        summary["disagree_with_logged"] = len(disagree)
        summary["disagreements"] = [{**example(i), "logged": logged[i]} for i in disagree[:top]]
    return summary


def render(summary: dict, title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()

    def fmt(x: float) -> str:
        return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.4g}"

    stats = Table(title=title, show_header=True)
    for col in ("rows", "errors", "mean", "std", "min", "p10", "p50", "p90", "max", "distinct", "zero"):
        stats.add_column(col, justify="right")
    stats.add_row(str(summary["rows"]), str(summary["errors"]), *(fmt(summary[k]) for k in
                  ("mean", "std", "min", "p10", "p50", "p90", "max")), str(summary["distinct"]),
                  f"{summary['share_zero']:.0%}" if summary["scored"] else "—")
    console.print(stats)
    peak = max((b["count"] for b in summary["histogram"]), default=0) or 1
    for b in summary["histogram"]:
        bar = "█" * round(30 * b["count"] / peak)
        console.print(f"  [{fmt(b['from']):>8} , {fmt(b['to']):>8})  {bar} {b['count']}")
    if summary["distinct"] == 1 and summary["scored"] > 1:
        console.print("[yellow]every row has the same score: GRPO advantages will all be 0 — nothing to learn[/]")
    for message in summary["first_errors"]:
        console.print(f"[red]error[/red] {message}")
    if summary["components"]:
        table = Table(title="components (dict results)")
        table.add_column("component")
        table.add_column("mean", justify="right")
        table.add_column("non-zero", justify="right")
        for key, c in summary["components"].items():
            table.add_row(key, fmt(c["mean"]), f"{c['share_nonzero']:.0%}")
        console.print(table)
    if len(summary["by_data_source"]) > 1:
        table = Table(title="by data_source")
        for col in ("data_source", "rows", "mean"):
            table.add_column(col)
        for key, c in summary["by_data_source"].items():
            table.add_row(key, str(c["rows"]), fmt(c["mean"]))
        console.print(table)
    if "disagree_with_logged" in summary:
        n = summary["disagree_with_logged"]
        colour = "green" if n == 0 else "red"
        console.print(f"[{colour}]{n} row(s) where --reward disagrees with the logged score column[/]")
    for name in ("worst", "best", "disagreements"):
        examples = summary.get(name) or []
        if not examples:
            continue
        table = Table(title=f"{name} examples", show_lines=True)
        for col in ("row", "score", "ground truth", "components", "response (tail)"):
            table.add_column(col, overflow="fold")
        for e in examples:
            score = fmt(e["score"]) + (f"\n(logged {fmt(e['logged'])})" if "logged" in e else "")
            components = ", ".join(f"{k}={fmt(v)}" for k, v in e["components"].items())
            table.add_row(str(e["index"]), score, e["ground_truth"][:40], components, e["response_tail"])
        console.print(table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m verlings.tools.reward_report", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", type=Path, help="a .parquet or .jsonl file, one response per row")
    parser.add_argument("--reward", metavar="MODULE:FN", help="the reward to run (default: the logged score column)")
    parser.add_argument("--top", type=int, default=3, help="worst/best examples to show (default 3)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N rows")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON instead of tables")
    args = parser.parse_args(argv)
    try:
        rows = read_rows(args.file)
        if args.limit is not None:
            rows = rows[: max(args.limit, 0)] or rows[:1]
        missing = [i for i, r in enumerate(rows) if _first_key(r, RESPONSE_COLUMNS) is None]
        if missing:
            raise ReportError(f"{args.file}: no response column (one of {', '.join(RESPONSE_COLUMNS)}); "
                              f"columns: {', '.join(sorted(rows[missing[0]]))}")
        logged = [r.get("score") for r in rows] if any("score" in r for r in rows) else None
        if logged is not None:
            logged = [float(x) if _is_number(x) else None for x in logged]
        if args.reward:
            fn = load_reward(args.reward)
            results = score_rows(rows, fn)
            title = f"{args.file.name} — {args.reward}"
        elif logged is not None:
            results = [{"score": math.nan if x is None else x, "components": {},
                        "error": None if x is not None else "no logged score"} for x in logged]
            logged, title = None, f"{args.file.name} — logged score column"
        else:
            raise ReportError(f"{args.file}: no 'score' column to report; pass --reward MODULE:FN")
        summary = summarise(rows, results, top=max(args.top, 0), logged=logged)
    except ReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(summary, default=str, ensure_ascii=False))
    else:
        render(summary, title)
    return 0


if __name__ == "__main__":
    sys.exit(main())
