"""``python grader.py``: the learner's and teacher's command line.

    python grader.py [CHAPTER|EXERCISE ...]    grade (all chapters by default)
    python grader.py list                      progress
    python grader.py hint 03.gae               the next staged hint
    python grader.py reset 03.gae              restore the stub (your file is backed up)
    python grader.py watch [03|03.grpo]        re-grade what you save; starts at the first unfinished
    python grader.py doctor                    check the environment
    python grader.py bench [CHAPTER]           benchmarks: yours vs reference vs verl
    python grader.py capstone [--plot]         chapter 06: a real verl training run with your code
    python grader.py serve [RUN_DIR]           chapter 06: the trained model behind vLLM's OpenAI-compatible server
    python grader.py agent [--plot]            chapter 07: multi-turn GRPO with your agent loop, parser and tools
    python grader.py verify                    graded tests and harness untouched?
    python grader.py batch SUBMISSIONS --out class.csv [--jobs N | --ray-address ADDR]   teachers: a class

Common options: --solutions | --target DIR, --lang en|zh, --format ..., --out FILE.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from rich.console import Console

from verlings import chapters as chapters_mod
from verlings import target as target_mod
from verlings.i18n import say
from verlings.paths import EXERCISES, display

COMMANDS = ("grade", "list", "hint", "reset", "watch", "doctor", "bench", "verify", "capstone", "serve", "batch",
            "agent")
FORMATS = ("table", "json", "gradescope", "classroom", "junit")


def _common(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--solutions", action="store_true", help="grade the reference solutions")
    which.add_argument(
        "--target", metavar="DIR", help=f"grade DIR (laid out like exercises/); env {target_mod.ENV_VAR}"
    )
    parser.add_argument("--lang", choices=("en", "zh"), default=None, help="language of titles and hints")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python grader.py", description="verlings grader",
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    sub = parser.add_subparsers(dest="command")

    g = sub.add_parser("grade", help="grade chapters or exercises (the default command)")
    g.add_argument("selection", nargs="*", metavar="CHAPTER|EXERCISE", help="e.g. 03 or 03.gae; default: all")
    _common(g)
    g.add_argument("--format", choices=FORMATS, default="table")
    g.add_argument("--out", metavar="FILE", help="write the report here instead of standard output")
    g.add_argument("--partial", action="store_true", help="partial credit: points × fraction of tests passed")
    g.add_argument("--extra-tests", metavar="DIR", help="a teacher's private tests (DIR/NN/test_*.py), same markers")
    g.add_argument("--timeout", type=float, default=None, help="seconds per chapter (default: chapter.toml, 600)")
    g.add_argument("--test-timeout", type=int, default=None,
                   help="seconds per test (default: each exercise's budget in chapter.toml)")
    g.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="chapters graded at once (default: the number of cores; 1: one after another)")

    lst = sub.add_parser("list", help="progress through the course")
    lst.add_argument("--lang", choices=("en", "zh"), default=None)

    h = sub.add_parser("hint", help="reveal the next staged hint of an exercise")
    h.add_argument("exercise", help="exercise id, e.g. 03.gae")
    h.add_argument("--lang", choices=("en", "zh"), default=None)

    r = sub.add_parser("reset", help="restore an exercise's stub (your file is backed up first)")
    r.add_argument("exercise", help="exercise id, e.g. 03.gae")
    r.add_argument("--target", metavar="DIR", help="reset in DIR instead of exercises/")

    w = sub.add_parser("watch", help="re-grade what you save, follow the first unfinished exercise "
                       "(h hint, n next, l list, q quit)")
    w.add_argument("where", nargs="?", default=None, metavar="CHAPTER|EXERCISE",
                   help="start here (e.g. 03 or 03.grpo); default: the first unfinished exercise")
    _common(w)

    d = sub.add_parser("doctor", help="check the environment and say how to fix what is missing")
    d.add_argument("--lang", choices=("en", "zh"), default=None)
    d.add_argument("--json", action="store_true", help="the checks as JSON")

    c = sub.add_parser("capstone", add_help=False,
                       help="chapter 06: a real verl GRPO run with your code (--plot: the learning demo)")
    c.add_argument("capstone_args", nargs=argparse.REMAINDER)

    a = sub.add_parser("agent", add_help=False,
                       help="chapter 07: verl multi-turn GRPO with your agent loop (--plot: the demo)")
    a.add_argument("agent_args", nargs=argparse.REMAINDER)

    s = sub.add_parser("serve", add_help=False, help="chapter 06: serve the trained model with vLLM (OpenAI API)")
    s.add_argument("serve_args", nargs=argparse.REMAINDER)

    sub.add_parser("verify", help="check that graded tests and harness match the committed checksums")

    from verlings.batch.cli import add_parser as add_batch_parser

    add_batch_parser(sub)

    b = sub.add_parser("bench", help="pytest-benchmark: your code vs reference vs verl")
    b.add_argument("chapters", nargs="*", help="chapters to benchmark (default: all with benchmarks)")
    _common(b)
    b.add_argument("--benchmark-json", metavar="FILE", help="save the raw pytest-benchmark results")
    return parser


def parse_args(argv: list[str]) -> argparse.Namespace:
    if argv and argv[0] == "capstone":  # its own parser takes every option
        return argparse.Namespace(command="capstone", capstone_args=argv[1:])
    if argv and argv[0] == "agent":
        return argparse.Namespace(command="agent", agent_args=argv[1:])
    if argv and argv[0] == "serve":
        return argparse.Namespace(command="serve", serve_args=argv[1:])
    if not argv or argv[0] not in (*COMMANDS, "-h", "--help"):
        argv = ["grade", *argv]
    return build_parser().parse_args(argv)


def _target(args: argparse.Namespace) -> Path:
    return target_mod.resolve(solutions=getattr(args, "solutions", False), target=getattr(args, "target", None))


def _lang(args: argparse.Namespace) -> str:
    from verlings.state import Progress

    return args.lang or os.environ.get("VERLINGS_LANG") or Progress.load().lang


def _selection(names: list[str]) -> tuple[list[chapters_mod.Chapter], set[str] | None]:
    all_chapters = chapters_mod.all_chapters()
    if not names:
        return all_chapters, None
    wanted_chapters, wanted_ex = set(), set()
    for name in names:
        if name.isdigit():
            cid = name.zfill(2)
            if cid not in {c.id for c in all_chapters}:
                raise KeyError(f"chapter {name!r} does not exist; chapters: {', '.join(c.id for c in all_chapters)}")
            wanted_chapters.add(cid)
        else:
            ex = chapters_mod.find_exercise(name)
            wanted_chapters.add(ex.chapter)
            wanted_ex.add(ex.id)
    only = None
    if wanted_ex:  # a chapter named as a whole keeps all its exercises
        only = wanted_ex | {e.id for c in all_chapters if c.id in wanted_chapters - {x.split('.')[0] for x in wanted_ex}
                            for e in c.exercises}
    return [c for c in all_chapters if c.id in wanted_chapters], only


def cmd_grade(args: argparse.Namespace, console: Console) -> int:
    from verlings.grading import grade
    from verlings.report import render_json, render_table
    from verlings.state import Progress

    target = _target(args)
    lang = _lang(args)
    chosen, only = _selection(args.selection)
    extra = Path(args.extra_tests).resolve() if args.extra_tests else None
    if extra is not None and not extra.is_dir():
        raise ValueError(f"--extra-tests {args.extra_tests!r} is not a folder")
    quiet = args.format != "table" and not args.out
    status = console.status("grading…") if not quiet and console.is_terminal else None
    if status:
        status.start()
    try:
        report = grade(chosen, target, only=only, extra_tests=extra, partial=args.partial,
                       timeout=args.timeout, test_timeout=args.test_timeout, jobs=args.jobs)
    finally:
        if status:
            status.stop()
    progress = Progress.load()
    if target == EXERCISES.resolve():
        for r in report.exercises:
            progress.record(r.exercise.id, r.status)
        progress.save()  # hints are not touched: one counts as used only when the learner asks
    if args.format == "table":
        out_console = Console(file=open(args.out, "w", encoding="utf-8"), width=120) if args.out else console
        render_table(report, lang, out_console, hints_shown=progress.hints)
    else:
        from verlings import formats

        text = render_json(report) if args.format == "json" else formats.render(report, args.format)
        if args.out:
            Path(args.out).write_text(text + "\n", encoding="utf-8")
        else:
            print(text)
    if args.out:
        console.print(f"{args.format} report written to {args.out} — {report.score:g}/{report.max_score}")
    return 0 if report.all_passed else 1


def cmd_list(args: argparse.Namespace, console: Console) -> int:
    from verlings.listing import passed_line, progress_table
    from verlings.state import Progress

    lang = _lang(args)
    progress = Progress.load()
    table, done, total = progress_table(progress.status, progress.hints, lang)
    console.print(table)
    console.print(passed_line(done, total, lang))
    return 0


def cmd_hint(args: argparse.Namespace, console: Console) -> int:
    from rich.text import Text

    from verlings.report import render_hints
    from verlings.state import Progress

    lang = _lang(args)
    ex = chapters_mod.find_exercise(args.exercise)
    progress = Progress.load()
    shown = progress.reveal_hint(ex.id, len(ex.hints))
    progress.save()
    console.print(Text(f"{ex.id} — {ex.title_in(lang)}", style="bold"))
    render_hints(ex, shown, lang, console)
    if shown >= len(ex.hints):
        last = say({"en": "That was the last hint. See the lesson:", "zh": "这是最后一条提示。参考："}, lang)
        console.print(Text(f"  {last} {ex.lesson(lang)}", style="dim"))
    return 0


def cmd_reset(args: argparse.Namespace, console: Console) -> int:
    from verlings.stubs import reset

    ex = chapters_mod.find_exercise(args.exercise)
    result = reset(ex, root=_target(args))
    what = "the whole file (it did not parse)" if result.whole_file else ", ".join(ex.functions)
    console.print(f"restored {what} in {display(result.path)}")
    if result.backup:
        console.print(f"your previous file is kept at {display(result.backup)}")
    return 0


def cmd_watch(args: argparse.Namespace, console: Console) -> int:
    from verlings.watch import watch

    return watch(_target(args), _lang(args), console, where=args.where)


def cmd_doctor(args: argparse.Namespace, console: Console) -> int:
    from verlings.doctor import main as doctor_main

    return doctor_main(["--json"] if args.json else [], lang=_lang(args))


def cmd_bench(args: argparse.Namespace, console: Console) -> int:
    from verlings.bench import run_bench

    return run_bench(args.chapters, _target(args), benchmark_json=args.benchmark_json, console=console)


def cmd_verify(args: argparse.Namespace, console: Console) -> int:
    from verlings.manifest import MANIFEST, verify

    result = verify()
    for label, colour, files in (("edited", "red", result.edited), ("missing", "red", result.missing),
                                 ("added", "yellow", result.added)):
        for rel in files:
            console.print(f"[{colour}]{label}[/{colour}] {rel}", highlight=False)
    if result.ok:
        console.print(f"[green]verify: ok[/green] — graded tests and harness match {display(MANIFEST)}")
        return 0
    console.print("[red]verify: failed[/red] — graded tests or harness differ from the course's manifest")
    return 1


def cmd_batch(args: argparse.Namespace, console: Console) -> int:
    from verlings.batch.cli import cmd_batch as batch_main

    return batch_main(args, console)


def cmd_capstone(args: argparse.Namespace, console: Console) -> int:
    from verlings.capstone.cli import main as capstone_main

    return capstone_main(args.capstone_args)


def cmd_agent(args: argparse.Namespace, console: Console) -> int:
    from verlings.agent_rl.cli import main as agent_main

    return agent_main(args.agent_args)


def cmd_serve(args: argparse.Namespace, console: Console) -> int:
    from verlings.capstone.serve import main as serve_main

    return serve_main(args.serve_args)


HANDLERS = {"grade": cmd_grade, "list": cmd_list, "hint": cmd_hint, "reset": cmd_reset, "watch": cmd_watch,
            "doctor": cmd_doctor, "bench": cmd_bench, "verify": cmd_verify,
            "capstone": cmd_capstone, "serve": cmd_serve, "batch": cmd_batch, "agent": cmd_agent}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    console = Console()
    try:
        return HANDLERS[args.command](args, console)
    except (KeyError, ValueError, FileNotFoundError, chapters_mod.ChapterError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        console.print(f"[red]error:[/red] {message}", highlight=False)
        return 2
    except KeyboardInterrupt:
        return 130
