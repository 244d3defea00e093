"""Fixtures of chapter 05 (agent RL): the course tokenizer and verl's agent-loop registry."""

import pytest


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
