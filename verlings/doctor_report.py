"""The doctor's report: one :class:`Check` per row, its words in both languages, and the table."""

from __future__ import annotations

from dataclasses import dataclass, field

from verlings.i18n import say

OK, WARN, FAIL, INFO = "ok", "warn", "fail", "info"

LABELS = {
    "python": {"en": "Python", "zh": "Python"},
    "torch": {"en": "torch", "zh": "torch"},
    "verl": {"en": "verl", "zh": "verl"},
    "ray": {"en": "ray", "zh": "ray"},
    "hydra": {"en": "hydra-core", "zh": "hydra-core"},
    "transformers": {"en": "transformers", "zh": "transformers"},
    "engine": {"en": "rollout engine (vLLM, optional)", "zh": "推理引擎 vLLM（可选）"},
    "gpu": {"en": "CUDA GPU", "zh": "CUDA GPU"},
    "disk": {"en": "free disk", "zh": "剩余磁盘"},
    "pytest": {"en": "pytest + plug-ins", "zh": "pytest 及插件"},
    "packages": {"en": "course packages", "zh": "课程依赖包"},
    "jail": {"en": "code jail (bubblewrap, ch. 04)", "zh": "代码监狱 bubblewrap（第 04 章）"},
}

TEXT = {
    "title": {"en": "verlings doctor — environment check", "zh": "verlings doctor —— 环境检查"},
    "check": {"en": "check", "zh": "检查项"},
    "status": {"en": "status", "zh": "状态"},
    "found": {"en": "found", "zh": "当前"},
    "needed": {"en": "needed", "zh": "需要"},
    "fix": {"en": "fix (run this)", "zh": "修复命令"},
    "missing": {"en": "not installed", "zh": "未安装"},
    "optional": {"en": "optional", "zh": "可选"},
    "all_ok": {"en": "Everything the course needs is in place.", "zh": "课程所需的一切都已就绪。"},
    "warn_only": {
        "en": "Ready; {n} optional item(s) above can wait until you need them.",
        "zh": "已就绪；上面 {n} 个可选项等需要时再装即可。",
    },
    "problems": {
        "en": "{n} required check(s) failed: run the fix command(s) above, then `python grader.py doctor` again.",
        "zh": "{n} 项必需检查未通过：运行上面的修复命令，然后再运行 `python grader.py doctor`。",
    },
}

STATUS_MARK = {
    OK: {"en": "[green]✔ ok[/]", "zh": "[green]✔ 正常[/]"},
    WARN: {"en": "[yellow]! warn[/]", "zh": "[yellow]! 提醒[/]"},
    FAIL: {"en": "[red]✘ fail[/]", "zh": "[red]✘ 失败[/]"},
    INFO: {"en": "[cyan]· info[/]", "zh": "[cyan]· 信息[/]"},
}


@dataclass
class Check:
    """One row of the report."""

    key: str
    status: str  # ok | warn | fail | info
    found: str
    needed: str = ""
    fix: str = ""
    note: dict[str, str] = field(default_factory=dict)  # {"en": ..., "zh": ...}
    required: bool = True

    def label(self, lang: str) -> str:
        return say(LABELS[self.key], lang)

    def note_in(self, lang: str) -> str:
        return say(self.note, lang) if self.note else ""


def exit_code(checks: list[Check]) -> int:
    return 1 if any(c.status == FAIL and c.required for c in checks) else 0


def render(checks: list[Check], lang: str = "en", console=None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    table = Table(title=say(TEXT["title"], lang), show_lines=False, expand=False)
    for col in ("check", "status", "found", "needed", "fix"):
        table.add_column(say(TEXT[col], lang), overflow="fold")
    for c in checks:
        found = c.found if c.found != TEXT["missing"]["en"] else say(TEXT["missing"], lang)
        needed = say(TEXT["optional"], lang) if c.needed == "optional" else c.needed
        note = c.note_in(lang)
        if note and c.status != OK:
            found = f"{found}\n[dim]{note}[/]"
        fix = f"[bold]{c.fix}[/]" if c.fix and c.status in (FAIL, WARN) else ""
        table.add_row(c.label(lang), say(STATUS_MARK[c.status], lang), found, needed, fix)
    console.print(table)
    failures = sum(c.status == FAIL and c.required for c in checks)
    warnings = sum(c.status in (WARN, FAIL) and not c.required for c in checks)
    if failures:
        console.print("[red]" + say(TEXT["problems"], lang).format(n=failures) + "[/]")
    elif warnings:
        console.print("[green]" + say(TEXT["warn_only"], lang).format(n=warnings) + "[/]")
    else:
        console.print("[green]" + say(TEXT["all_ok"], lang) + "[/]")
