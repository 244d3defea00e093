"""``python grader.py bench [CHAPTER]``: pytest-benchmark timings, yours vs reference vs verl.

Benchmark files are ``benchmarks/bench_NN_<topic>.py``. Each benchmark is
parametrised over implementations with the ids ``yours`` (the active target),
``reference`` (solutions/) and ``verl``, and sets ``benchmark.group`` to the
function and size, so rows of one group compare like with like. A slow or
unfinished learner function is reported, never failed.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from verlings.grading import PYTEST_FLAGS
from verlings.paths import ROOT, SOLUTIONS
from verlings.target import describe, load_module

BENCH_DIR = ROOT / "benchmarks"
IMPLEMENTATIONS = ("yours", "reference", "verl")


def implementation(name: str, chapter: str, module: str):
    """The module behind an implementation id (``verl`` is the caller's business)."""
    return load_module(chapter, module, root=SOLUTIONS if name == "reference" else None)


def bench_files(chapters: list[str]) -> list[Path]:
    files = sorted(BENCH_DIR.glob("bench_*.py"))
    if chapters:
        files = [f for f in files if any(f.name.startswith(f"bench_{c.zfill(2)}_") for c in chapters)]
    return files


def summarise(data: dict) -> dict[str, dict[str, tuple[float, float]]]:
    """group -> implementation -> min and median seconds (the min is what a busy machine can still measure)."""
    groups: dict[str, dict[str, float]] = {}
    for bench in data.get("benchmarks", []):
        match = re.search(r"\[(?:.*-)?(yours|reference|verl)(?:-.*)?\]$", bench["name"])
        impl = match.group(1) if match else bench["name"]
        stats = bench["stats"]
        groups.setdefault(bench.get("group") or bench["name"], {})[impl] = (stats["min"], stats["median"])
    return groups


WIDTH = 80  # the table fits a plain 80-column terminal


def _time(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale or unit == "µs":
            return f"{seconds / scale:.3g} {unit}"
    return ""  # unreachable


def render(
    groups: dict[str, dict[str, tuple[float, float]]], failed: list[str], target: Path, console: Console
) -> None:
    """One row per group: each implementation's best time (min) and the two ratios, in 80 columns."""
    from rich import box

    table = Table(title=f"verlings bench — {describe(target)}", caption="min of the rounds; ratios of the mins",
                  box=box.SIMPLE_HEAD, padding=(0, 1), width=min(WIDTH, console.width))
    table.add_column("benchmark", overflow="fold", ratio=1)
    for impl in IMPLEMENTATIONS:
        table.add_column("ref." if impl == "reference" else impl, justify="right", no_wrap=True)
    table.add_column("yours/ref", justify="right", no_wrap=True)
    table.add_column("ref/verl", justify="right", no_wrap=True)

    def fmt(t: tuple[float, float] | None) -> str:
        return "—" if t is None else _time(t[0])

    def ratio(a: tuple[float, float] | None, b: tuple[float, float] | None) -> str:
        return "—" if a is None or b is None or b[0] == 0 else f"{a[0] / b[0]:.2f}×"

    for group, times in sorted(groups.items()):
        y, r, v = (times.get(i) for i in IMPLEMENTATIONS)
        table.add_row(group, fmt(y), fmt(r), fmt(v), ratio(y, r), ratio(r, v))
    console.print(table)
    for name in failed:
        console.print(f"[yellow]not measured[/yellow] {escape(name)} (raised an error — unfinished exercise?)")


def run_bench(chapters: list[str], target: Path, *, benchmark_json: str | None = None,
              console: Console | None = None) -> int:
    console = console or Console()
    files = bench_files(chapters)
    if not files:
        console.print(f"no benchmarks for {', '.join(chapters) or 'any chapter'} in {BENCH_DIR.name}/")
        return 2
    with tempfile.TemporaryDirectory(prefix="verlings-bench-") as tmp:
        out = Path(benchmark_json) if benchmark_json else Path(tmp) / "bench.json"
        cmd = [sys.executable, "-m", "pytest", *map(str, files), "--rootdir", str(ROOT),
               "-c", str(ROOT / "pyproject.toml"), "-o", "addopts=", *PYTEST_FLAGS,
               "-o", "python_files=bench_*.py",
               "--benchmark-only", "--benchmark-json", str(out), "--target", str(target), "-q", "--no-header",
               "--timeout", "600", "-rfE"]
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        if not out.is_file():
            console.print(proc.stdout[-3000:] + proc.stderr[-2000:])
            return 1
        data = json.loads(out.read_text())
    failed = [line.split(" ")[1] for line in proc.stdout.splitlines() if line.startswith(("FAILED ", "ERROR "))]
    render(summarise(data), failed, target, console)
    for line in service_lines(data):
        console.print(escape(line))  # "[yours]" in a test id is not rich markup
    return 0


def service_lines(data: dict) -> list[str]:
    """Throughput and p95 latency, for benchmarks that record them in ``extra_info`` (the reward server's)."""
    lines = []
    for bench in data.get("benchmarks", []):
        info = bench.get("extra_info") or {}
        if all(isinstance(info.get(k), (int, float)) for k in ("requests_per_s", "p95_latency_ms")):
            lines.append(f"{bench['name']}: {info['requests_per_s']:.0f} requests/s, "
                         f"p95 latency {info['p95_latency_ms']:.1f} ms")
    return lines
