"""``python -m verlings.dev mutation [CHAPTER|CHAPTER/MODULE ...]``: a measured mutation score.

Each reference module ``solutions/NN/<module>.py`` is mutated by mutmut's operators (numbers,
strings, operators, comparisons, keywords, arguments, names — mutmut 2.5, used as a library),
one mutation at a time. Each mutant is copied with the rest of the chapter's reference into a
temporary target folder and the module's graded tests (``exercises/NN/test_<module>.py`` and
``test_<module>_*.py``) run against it in this process, stopping at the first failure:

    killed      a graded test failed (an assertion, or the mutant raised)
    timed out   a graded test ran past its budget (counts as caught, reported apart)
    survived    every graded test passed

Why mutmut's operators and not its runner (or cosmic-ray's): both runners start a fresh test
process per mutant (torch and verl imported again: seconds to minutes each on two cores) and
expect the code under test to be importable from its own path, while the course grades a
*target folder* (``--target``). Here every mutant runs in one warm process through the same
plug-in as the mutant tests of ``tests/``.

Helpers that the stub ships complete (top-level functions and classes identical to the
reference's, docstrings aside) are the course's code, not the learner's: they are not mutated.

Survivors that cannot be caught (the mutant behaves like the reference) are listed with a
one-line reason in ``verlings/dev/mutation_equivalents.toml``; the score leaves them out.
The report (``--report``, default ``docs/mutation_report.md``) has one row per module.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import copy
import difflib
import io
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from verlings.dev.mutants import run_in_process
from verlings.paths import EXERCISES, ROOT, SOLUTIONS

EQUIVALENTS = Path(__file__).with_name("mutation_equivalents.toml")
DEFAULT_REPORT = ROOT / "docs" / "mutation_report.md"


@dataclass(frozen=True)
class Mutation:
    module: str  # "02/gsm8k_reward"
    line_number: int  # 1-based
    before: str  # the reference line, stripped
    after: str  # the mutated line, stripped
    source: str  # the whole mutated module

    @property
    def key(self) -> tuple[str, str, str]:
        return self.module, self.before, self.after


@dataclass
class ModuleResult:
    module: str
    killed: list[Mutation] = field(default_factory=list)
    timed_out: list[Mutation] = field(default_factory=list)
    survived: list[Mutation] = field(default_factory=list)
    equivalent: list[Mutation] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def score(self) -> float | None:
        """Caught / (all − equivalents); None when there is nothing to score."""
        total = len(self.killed) + len(self.timed_out) + len(self.survived)
        return None if total == 0 else (len(self.killed) + len(self.timed_out)) / total


def _without_docstrings(node: ast.AST) -> str:
    node = copy.deepcopy(node)
    for n in ast.walk(node):
        body = getattr(n, "body", None)
        if (isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and body
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            n.body = body[1:] or [ast.Pass()]
    return ast.dump(node)


def provided_lines(module: str) -> set[int]:
    """Lines of the reference's top-level functions and classes that the stub ships complete.

    The stub of ``exercises/<module>.py`` provides some helpers whole (the sandbox's
    ``unshare_prefix``, ``make_parents``, ``_jail_problem``...): the learner does not write them,
    so their mutants measure nothing about the graded tests of the learner's code and are not
    made. Compared as syntax trees without docstrings; constants are always mutated.
    """
    stub_path = EXERCISES / f"{module}.py"
    if not stub_path.is_file():
        return set()
    defs = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    stub = {n.name: _without_docstrings(n) for n in ast.parse(stub_path.read_text(encoding="utf-8")).body
            if isinstance(n, defs)}
    reference = ast.parse((SOLUTIONS / f"{module}.py").read_text(encoding="utf-8"))
    lines: set[int] = set()
    for n in reference.body:
        if isinstance(n, defs) and stub.get(n.name) == _without_docstrings(n):
            first = min([n.lineno, *(d.lineno for d in n.decorator_list)])
            lines.update(range(first, n.end_lineno + 1))
    return lines


def mutations(module: str, lines: set[str] | None = None) -> list[Mutation]:
    """Every single mutation mutmut makes of ``solutions/<module>.py`` outside provided code.

    With ``lines`` (reference lines, stripped), only the mutations of those lines: each mutation
    re-runs mutmut over the whole module, so a check of a few recorded lines skips the rest.
    """
    from mutmut import ALL, Context, RelativeMutationID, mutate

    path = SOLUTIONS / f"{module}.py"
    source = path.read_text(encoding="utf-8")
    provided = provided_lines(module)
    listing = Context(source=source, mutation_id=ALL, filename=str(path))
    mutate(listing)
    before_lines = source.splitlines()
    out = []
    for mid in listing.performed_mutation_ids:
        ctx = Context(source=source, filename=str(path),
                      mutation_id=RelativeMutationID(mid.line, mid.index, mid.line_number))
        if mid.line_number + 1 in provided or (lines is not None and mid.line.strip() not in lines):
            continue
        mutated, count = mutate(ctx)
        if count != 1:
            continue
        after_lines = mutated.splitlines()
        changed = [line for line in difflib.ndiff(before_lines, after_lines) if line.startswith("+ ")]
        after = changed[0][2:].strip() if changed else "(line removed)"
        out.append(Mutation(module, mid.line_number + 1, mid.line.strip(), after, mutated))
    return out


def load_equivalents(path: Path = EQUIVALENTS) -> dict[tuple[str, str, str], str]:
    """(module, line, mutated line) -> the reason the mutant cannot be told from the reference."""
    if not path.is_file():
        return {}
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    out = {}
    for entry in data.get("equivalent", []):
        missing = {"module", "line", "mutated", "reason"} - set(entry)
        if missing:
            raise ValueError(f"{path}: an [[equivalent]] entry lacks {sorted(missing)}: {entry}")
        out[(entry["module"], entry["line"], entry["mutated"])] = entry["reason"]
    return out


class _Kinds:
    """The plug-in's typed failure kinds of one run (never the messages' wording)."""

    def __init__(self) -> None:
        self.kinds: list[str] = []
        self.passed = 0

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed:
            self.kinds.append(dict(report.user_properties).get("verlings_kind", "error"))
        elif report.passed and report.when == "call":
            self.passed += 1

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        # A graded test module that cannot be collected against the mutant (it reads the learner's
        # module while collecting) runs none of its tests: the learner sees it fail, so it is a catch.
        if report.failed:
            self.kinds.append("error")


def _test_files(module: str) -> list[Path]:
    chapter, name = module.split("/")
    main = EXERCISES / chapter / f"test_{name}.py"
    return [main, *sorted(main.parent.glob(f"test_{name}_*.py"))] if main.is_file() else []


def _forget_test_modules() -> None:
    """Drop the graded test modules from sys.modules, so the next run imports them afresh.

    pytest's importlib mode hands back a test module that is already in sys.modules: without this
    a test's module-level cache (``functools.cache`` of a composed config) would outlive the mutant
    it was computed for, and every later mutant would be graded on the first one's result.
    """
    root = EXERCISES.resolve()
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if file and Path(file).name.startswith("test_") and Path(file).resolve().is_relative_to(root):
            del sys.modules[name]


def run_mutant(mutation: Mutation) -> str:
    """'killed', 'timed out' or 'survived' (the module's graded tests against the mutant)."""
    import shutil

    chapter, name = mutation.module.split("/")
    kinds = _Kinds()
    _forget_test_modules()
    with tempfile.TemporaryDirectory(prefix="verlings-mutation-") as tmp:
        shutil.copytree(SOLUTIONS / chapter, Path(tmp) / chapter, ignore=shutil.ignore_patterns("__pycache__"))
        (Path(tmp) / chapter / f"{name}.py").write_text(mutation.source, encoding="utf-8")
        # pytest's own output is noise here: the outcome is read from the typed kinds
        with contextlib.redirect_stdout(io.StringIO()):
            run_in_process([*map(str, _test_files(mutation.module)), "--target", tmp, "-x"], [kinds])
    if not kinds.kinds:
        return "survived"
    return "timed out" if "timeout" in kinds.kinds else "killed"


def modules_of(selection: list[str]) -> list[str]:
    """'02' → every graded module of chapter 02; '02/gsm8k_reward' (or '02.gsm8k_reward') → that one."""
    from verlings.chapters import load_chapter

    out: list[str] = []
    for item in selection:
        item = item.replace(".", "/").removesuffix("/py")
        if "/" in item:
            if not (SOLUTIONS / f"{item}.py").is_file():
                raise SystemExit(f"no reference module solutions/{item}.py")
            out.append(item)
        else:
            for module in dict.fromkeys(e.module for e in load_chapter(item).exercises):
                out.append(f"{item}/{module}")
    return list(dict.fromkeys(out))


def _warm_worker(module: str) -> None:
    # A fresh worker first grades the unmutated reference once (result discarded): the imports
    # (torch, transformers, verl) and fixtures that the first test pays would otherwise count
    # against that test's time budget and report a mutant as timed out. Importing torch from
    # inside a graded test of a spawned worker also crashed it once (a segfault in torch._C).
    with contextlib.suppress(ImportError):
        import torch  # noqa: F401
    source = (SOLUTIONS / f"{module}.py").read_text(encoding="utf-8")
    run_mutant(Mutation(module, 0, "", "", source))


def _outcomes(mutants: list[Mutation], jobs: int):
    """run_mutant over ``mutants``, in order; with jobs > 1 in that many worker processes.

    Tests that mostly wait (the sandbox's subprocesses and timeouts, a reward server's delays)
    leave the cores idle: workers grade several mutants at once. Each worker is a fresh, spawned
    interpreter (no fork of a process that has imported torch) and stays warm for its next mutant.
    """
    if jobs <= 1 or not mutants:
        yield from map(run_mutant, mutants)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_warm_worker, initargs=(mutants[0].module,)) as pool:
        yield from pool.map(run_mutant, mutants)


def run_module(module: str, equivalents: dict, limit: int | None = None, echo=print, jobs: int = 1) -> ModuleResult:
    result = ModuleResult(module)
    start = time.monotonic()
    found = mutations(module)[:limit] if limit else mutations(module)
    result.equivalent = [m for m in found if m.key in equivalents]
    graded = [(i, m) for i, m in enumerate(found, 1) if m.key not in equivalents]
    for (i, m), outcome in zip(graded, _outcomes([m for _, m in graded], jobs)):
        {"killed": result.killed, "timed out": result.timed_out, "survived": result.survived}[outcome].append(m)
        if outcome == "survived":
            echo(f"  [{i}/{len(found)}] SURVIVED {module}:{m.line_number}  {m.before!r} → {m.after!r}")
    result.seconds = time.monotonic() - start
    return result


def report_markdown(results: list[ModuleResult], equivalents: dict) -> str:
    rows = ["| module | mutants | killed | timed out | survived | equivalent | score | time (s) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        total = len(r.killed) + len(r.timed_out) + len(r.survived) + len(r.equivalent)
        score = "—" if r.score is None else f"{100 * r.score:.0f} %"
        rows.append(f"| {r.module} | {total} | {len(r.killed)} | {len(r.timed_out)} | {len(r.survived)} | "
                    f"{len(r.equivalent)} | {score} | {r.seconds:.0f} |")
    lines = ["# Mutation report", "", "`python -m verlings.dev mutation` (mutmut 2.5 operators on the reference "
             "solutions, each mutant graded by its module's graded tests). Score = (killed + timed out) / "
             "(mutants − equivalents).", "", *rows, ""]
    survivors = [m for r in results for m in r.survived]
    if survivors:
        lines += ["## Survivors (add a test, or record them in verlings/dev/mutation_equivalents.toml)", ""]
        lines += [f"- `{m.module}:{m.line_number}` `{m.before}` → `{m.after}`" for m in survivors]
        lines.append("")
    equivalent = [m for r in results for m in r.equivalent]
    if equivalent:
        lines += ["## Recorded equivalents", ""]
        lines += [f"- `{m.module}:{m.line_number}` `{m.before}` → `{m.after}`: {equivalents[m.key]}"
                  for m in equivalent]
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m verlings.dev mutation", description=__doc__.split("\n\n")[0])
    parser.add_argument("selection", nargs="+", help="chapters (02) or modules (02/gsm8k_reward)")
    parser.add_argument("--report", type=Path, default=DEFAULT_REPORT, help="markdown report to write")
    parser.add_argument("--limit", type=int, default=None, help="at most this many mutants per module (a sample)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="grade this many mutants at once, each in a worker process (default 1)")
    args = parser.parse_args(argv)
    try:
        import mutmut  # noqa: F401
    except ImportError:
        print("mutmut is not installed: pip install 'mutmut==2.5.1' (the dev extra of pyproject.toml)",
              file=sys.stderr)
        return 2
    equivalents = load_equivalents()
    results = []
    start = time.monotonic()
    for module in modules_of(args.selection):
        print(f"{module}: {len(mutations(module))} mutants", flush=True)
        r = run_module(module, equivalents, args.limit, jobs=args.jobs)
        score = "—" if r.score is None else f"{100 * r.score:.0f} %"
        print(f"{module}: killed {len(r.killed)}, timed out {len(r.timed_out)}, survived {len(r.survived)}, "
              f"equivalent {len(r.equivalent)} → {score} ({r.seconds:.0f} s)", flush=True)
        results.append(r)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    total = f"\nTotal wall time: {time.monotonic() - start:.0f} s (measured on the machine that ran it).\n"
    args.report.write_text(report_markdown(results, equivalents) + total, encoding="utf-8")
    print(f"report: {args.report}")
    return 0 if all(r.score is None or r.score >= 0.9 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
