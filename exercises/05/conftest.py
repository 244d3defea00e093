"""Fixtures of chapter 05 (agent RL): the course tokenizer, verl's agent-loop registry, quiet verl output."""

import logging
import os

import pytest

# Test modules that build verl tools (they import verl anyway, so the fixture below costs them nothing).
_BUILD_TOOLS = ("test_tools", "test_agent_loop", "test_agent_loop_edges", "test_agent_loop_contract")


class _ExplainMalformedCalls(logging.Filter):
    """verl's HermesToolParser logs ERROR for every block that is not JSON. In these tests the scripted
    model writes such blocks on purpose, so the line becomes an INFO that says so."""

    def filter(self, record: logging.LogRecord) -> bool:
        if "Failed to decode tool call" in record.getMessage():
            record.msg = (
                f"{record.getMessage()} — expected: the scripted model wrote a malformed <tool_call> on "
                "purpose; verl logs it and skips that block (not an error of your code)"
            )
            record.args = ()
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


def _silent_print(*args, **kwargs) -> None:
    return None


@pytest.fixture(autouse=True)
def quiet_verl(request, monkeypatch):
    """No schema dump from verl's BaseTool (it prints every tool's JSON schema when built), so a failing
    test shows its assertion, not pages of JSON; verl's malformed-call ERROR line explained."""
    if request.module.__name__.rsplit(".", 1)[-1] not in _BUILD_TOOLS:
        yield
        return
    import verl.tools.base_tool as base_tool

    monkeypatch.setattr(base_tool, "print", _silent_print, raising=False)  # module global shadows the builtin
    # verl names the parser's logger after its file (logging.getLogger(__file__)).
    verl_dir = os.path.dirname(os.path.dirname(base_tool.__file__))
    parser_logger = logging.getLogger(os.path.join(verl_dir, "experimental", "agent_loop", "tool_parser.py"))
    explain = _ExplainMalformedCalls()
    parser_logger.addFilter(explain)
    try:
        yield
    finally:
        parser_logger.removeFilter(explain)


@pytest.fixture(scope="session")
def tokenizer():
    """The course's local BPE tokenizer with its ChatML template (trained once, cached)."""
    from verlings.fixtures.tokenizer import local_tokenizer

    return local_tokenizer()


@pytest.fixture
def agent_loop_registry():
    """verl's agent-loop registry, put back as it was after the test."""
    from verl.experimental.agent_loop.agent_loop import _agent_loop_registry

    saved = dict(_agent_loop_registry)
    try:
        yield _agent_loop_registry
    finally:
        _agent_loop_registry.clear()
        _agent_loop_registry.update(saved)
