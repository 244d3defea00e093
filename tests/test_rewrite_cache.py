"""pytest's assertion rewriting remembered per process: the same code for the same source, a new
rewrite for an edited file, and graded asserts that still explain themselves."""

from __future__ import annotations

import pytest
from _pytest.assertion import rewrite

from verlings import rewrite_cache


@pytest.fixture
def memo(monkeypatch):
    monkeypatch.setattr(rewrite_cache, "_memo", {})
    monkeypatch.setattr(rewrite_cache, "_installed", False)
    monkeypatch.setattr(rewrite, "_rewrite_test", rewrite._rewrite_test)  # restored after the test
    rewrite_cache.install()
    return rewrite_cache._memo


def test_the_same_source_is_rewritten_once(memo, tmp_path, monkeypatch):
    path = tmp_path / "test_x.py"
    path.write_text("def test_x():\n    assert 1 + 1 == 3\n", encoding="utf-8")
    first = rewrite._rewrite_test(path, None)
    assert rewrite._rewrite_test(path, None) is first and len(memo) == 1
    path.write_text("def test_x():\n    assert 2 + 2 == 5\n", encoding="utf-8")  # edited: rewritten again
    second = rewrite._rewrite_test(path, None)
    assert second is not first and len(memo) == 2


def test_remembered_code_still_explains_a_failing_assert(memo, tmp_path):
    path = tmp_path / "test_y.py"
    path.write_text("def check(a):\n    assert a + 1 == 3\n", encoding="utf-8")
    rewrite_cache.prewarm([path])
    _, code = rewrite._rewrite_test(path, None)
    namespace: dict = {}
    exec(code, namespace)
    with pytest.raises(AssertionError) as info:
        namespace["check"](1)
    assert "assert (1 + 1) == 3" in str(info.value), "pytest's rewritten message, not a bare AssertionError"


def test_prewarm_covers_every_graded_test_file(memo):
    files = rewrite_cache.course_test_files()
    assert any(f.name == "conftest.py" for f in files) and any(f.parent.name == "03" for f in files)
    assert rewrite_cache.prewarm(files) == len(files) == len(memo)
