"""How many xdist workers ``python -m pytest tests`` starts when VERLINGS_TEST_JOBS is unset."""

import pytest

from verlings.dev.scripts import load_script
from verlings.paths import ROOT


@pytest.fixture
def conftest(monkeypatch):
    module = load_script(ROOT / "tests" / "conftest.py", "course_conftest_under_test")
    monkeypatch.setattr(module.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    return module


def test_the_quick_suite_runs_two_workers_a_core_when_memory_allows(conftest, monkeypatch):
    monkeypatch.setattr(conftest, "_available_memory_gb", lambda: 20.0)
    assert conftest.default_jobs(slow=False) == 4


def test_memory_bounds_the_workers_but_never_below_one_a_core(conftest, monkeypatch):
    monkeypatch.setattr(conftest, "_available_memory_gb", lambda: 3 * conftest.WORKER_MEMORY_GB + 0.1)
    assert conftest.default_jobs(slow=False) == 3
    monkeypatch.setattr(conftest, "_available_memory_gb", lambda: 1.0)
    assert conftest.default_jobs(slow=False) == 2
    monkeypatch.setattr(conftest, "_available_memory_gb", lambda: None)  # no /proc/meminfo
    assert conftest.default_jobs(slow=False) == 2


def test_the_slow_tests_run_one_worker_a_core(conftest, monkeypatch):
    monkeypatch.setattr(conftest, "_available_memory_gb", lambda: 64.0)
    assert conftest.default_jobs(slow=True) == 2


def test_available_memory_is_read_from_proc_meminfo(conftest):
    memory = conftest._available_memory_gb()
    assert memory is None or 0 < memory < 2**20
