"""How ``python -m pytest tests`` spreads over xdist workers: how many when VERLINGS_TEST_JOBS is
unset, and that a file's module fixture and an ``xdist_group`` keep their tests on one worker."""

import shutil

import pytest

from verlings.dev.scripts import load_script
from verlings.paths import ROOT

pytest_plugins = ["pytester"]


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


MODULE_FIXTURE_FILE = """
import os
import pytest

@pytest.fixture(scope="module")
def made():
    with open(os.environ["MADE_LOG"], "a") as log:
        log.write(os.environ.get("PYTEST_XDIST_WORKER", "main") + "\\n")

@pytest.mark.parametrize("i", range(8))
def test_uses_it(made, i):
    pass
"""


@pytest.mark.timeout(300)
def test_a_module_fixture_is_made_once_under_xdist(pytester, tmp_path, monkeypatch):
    # pytest 9.2 reads node ids from item._id, xdist 3.8 writes its @group suffix to item._nodeid:
    # without the course conftest's own suffix the 8 tests are dealt out to both workers.
    (pytester.path / "tests").mkdir()
    shutil.copy2(ROOT / "tests" / "conftest.py", pytester.path / "tests" / "conftest.py")
    (pytester.path / "tests" / "test_module_fixture.py").write_text(MODULE_FIXTURE_FILE)
    (pytester.path / "tests" / "test_other.py").write_text("def test_a():\n    pass\n\ndef test_b():\n    pass\n")
    log = tmp_path / "made.log"
    monkeypatch.setenv("MADE_LOG", str(log))
    monkeypatch.setenv("VERLINGS_TEST_JOBS", "2")
    result = pytester.runpytest_subprocess("tests", "-p", "no:cacheprovider", "-p", "no:randomly")
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["*2 workers*", "*10 passed*"])
    assert len(log.read_text().split()) == 1, f"made on {log.read_text().split()}"
