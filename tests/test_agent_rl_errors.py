"""Chapter 07: a learner's agent loop or parser that raises inside the run is shown first, as in
chapter 06 — the learner's traceback (their file, their line), not pages of Ray logs.

The path under test is the one a real run takes: the plug-in (``verlings/agent_rl/plugin.py``)
wraps the learner's loop class and parser inside verl's agent-loop worker, records the first
learner exception to the run folder, and the launcher's :func:`learner_error` /
:meth:`RunResult.failure` put it above the end of verl's log. Here the worker is this process.
"""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

import pytest

from verlings.agent_rl import plugin
from verlings.capstone import probe
from verlings.capstone.launcher import RunResult, learner_error

VERL_LOG = "\n".join(
    [
        "(AgentLoopWorker pid=4242) Traceback (most recent call last):",
        '  File ".../verl/experimental/agent_loop/agent_loop.py", line 900, in _run_agent_loop',
        "ray.exceptions.RayTaskError(ZeroDivisionError): ...",
        *[f"(raylet) noise {i}" for i in range(60)],
    ]
)


@pytest.fixture
def run_dir(tmp_path, monkeypatch):
    out = tmp_path / "run"
    out.mkdir()
    monkeypatch.setenv(probe.ENV_DIR, str(out))
    monkeypatch.setenv(plugin.ENV_DIR, str(out))
    return out


def _learner_module(tmp_path: Path, name: str, source: str):
    from verlings.target import load_module

    folder = tmp_path / "target" / "05"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    return load_module("05", name, root=tmp_path / "target"), folder / f"{name}.py"


def _failure(out: Path, files: list[Path]) -> str:
    error = learner_error(out, VERL_LOG, files)
    return RunResult(
        returncode=1,
        wall_s=97.0,
        out_dir=out,
        log=VERL_LOG,
        device="cpu",
        timed_out=False,
        calls={},
        learner_error=error,
    ).failure()


def test_a_raising_agent_loop_is_shown_first(tmp_path, run_dir):
    module, path = _learner_module(
        tmp_path,
        "agent_loop",
        """
        class ToolAgentLoop:
            server_manager = None  # verl's AgentLoopBase sets it
            async def run(self, sampling_params, **kwargs):
                turns = kwargs["raw_prompt"]
                return len(turns) / 0
    """,
    )
    plugin._record_run(module.ToolAgentLoop)
    with pytest.raises(ZeroDivisionError):
        asyncio.run(module.ToolAgentLoop().run({}, raw_prompt=[]))
    text = _failure(run_dir, [path])
    ours = text.index("── your code ──")
    assert text.index("your agent loop ToolAgentLoop.run raised inside the run:") > ours
    assert f'File "{path}", line 6, in run' in text, text  # the learner's own line
    assert "ZeroDivisionError: division by zero" in text
    assert ours < text.index("── end of the log"), "the learner's part must come before verl's log"


def test_a_raising_parser_is_shown_first(tmp_path, run_dir):
    from verlings.fixtures.tokenizer import local_tokenizer

    module, path = _learner_module(
        tmp_path,
        "tool_parser",
        """
        def parse_hermes(text):
            return text, [{"name": None}][1]
    """,
    )
    parse = plugin._learner_parse(module.parse_hermes)
    tok = local_tokenizer()
    with pytest.raises(IndexError):
        asyncio.run(parse(tok, tok.encode("hi", add_special_tokens=False)))
    text = _failure(run_dir, [path])
    assert "your parse_hermes (05/tool_parser.py) raised inside the run:" in text
    assert f'File "{path}", line 3, in parse_hermes' in text
    assert text.index("── your code ──") < text.index("── end of the log")


def test_only_the_first_learner_error_is_kept(tmp_path, run_dir):
    """Later exceptions are usually consequences of the first (Ray retries, other workers)."""
    module, _ = _learner_module(
        tmp_path,
        "agent_loop",
        """
        class ToolAgentLoop:
            server_manager = None
            async def run(self, sampling_params, **kwargs):
                raise ValueError(kwargs["which"])
    """,
    )
    plugin._record_run(module.ToolAgentLoop)
    for which in ("first", "second"):
        with pytest.raises(ValueError):
            asyncio.run(module.ToolAgentLoop().run({}, which=which))
    recorded = (run_dir / probe.ERROR).read_text(encoding="utf-8")
    assert "ValueError: first" in recorded and "second" not in recorded
