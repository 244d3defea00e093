"""Fixtures for chapter 04: the course's reward-model server (verlings/fixtures/reward_server.py)."""

import os

import pytest


@pytest.fixture(scope="session")
def reward_server_session():
    """One server for the session: a background thread on a free 127.0.0.1 port, stopped at the end.

    ``VERLINGS_REWARD_URL`` attaches to a server that is already running instead.
    """
    from verlings.fixtures.reward_server import RewardServer

    url = os.environ.get("VERLINGS_REWARD_URL")
    with RewardServer(url=url) as server:
        yield server


@pytest.fixture
def reward_server(reward_server_session):
    """The session's server with default behaviour and zeroed statistics."""
    reward_server_session.reset()
    yield reward_server_session
    reward_server_session.reset()
