"""Batch intake: which files of a submission are taken, and which submissions are refused (no grading here)."""

from __future__ import annotations

import zipfile

import pytest

from verlings.batch import intake
from verlings.batch.intake import EMPTY, GRADED, REJECTED, read_submission
from verlings.batch.synthetic import student_files, write_folder, write_zip

MASKS = b"def compute_response_mask(responses, attention_mask):\n    return 1\n"


@pytest.mark.parametrize("prefix", ["", "exercises/", "my-repo/exercises/", "wrapper/"])
def test_folder_layouts_all_give_the_same_modules(tmp_path, prefix):
    write_folder(tmp_path / "alice", {"03/masks.py": MASKS, "03/test_masks.py": b"def test_x(): pass\n",
                                      "03/notes.txt": b"hi"}, prefix=prefix)
    sub = read_submission(tmp_path / "alice", ["03"])
    assert sub.status == GRADED and sub.name == "alice"
    assert sub.files == {"03/masks.py": MASKS}, "only learner modules are taken, never tests or other files"


def test_zip_is_named_by_its_stem_and_unwrapped(tmp_path):
    write_zip(tmp_path / "bob.zip", {"03/masks.py": MASKS}, prefix="bob-main/exercises/")
    sub = read_submission(tmp_path / "bob.zip", ["03"])
    assert (sub.name, sub.status, sub.files) == ("bob", GRADED, {"03/masks.py": MASKS})


def test_chapters_not_asked_for_are_left_out(tmp_path):
    write_folder(tmp_path / "c", {"03/masks.py": MASKS, "01/config.py": b"x = 1\n"})
    assert set(read_submission(tmp_path / "c", ["03"]).files) == {"03/masks.py"}
    assert set(read_submission(tmp_path / "c", None).files) == {"03/masks.py", "01/config.py"}


def test_empty_folder_is_reported_not_graded(tmp_path):
    (tmp_path / "empty").mkdir()
    sub = read_submission(tmp_path / "empty", ["03"])
    assert sub.status == EMPTY and "no learner module" in sub.problem


def test_zip_with_path_traversal_is_rejected_before_anything_is_read(tmp_path):
    with zipfile.ZipFile(tmp_path / "eve.zip", "w") as zf:
        zf.writestr("03/masks.py", MASKS)
        zf.writestr("../../outside.py", b"print('escaped')\n")
    sub = read_submission(tmp_path / "eve.zip", ["03"])
    assert sub.status == REJECTED and "path traversal" in sub.problem and "../../outside.py" in sub.problem
    assert sub.files == {}
    assert not (tmp_path.parent / "outside.py").exists()


def test_zip_bomb_is_rejected_by_its_declared_size(tmp_path, monkeypatch):
    monkeypatch.setattr(intake, "MAX_UNPACKED_BYTES", 1 << 20)  # 1 MB cap: the same check, a small bomb
    with zipfile.ZipFile(tmp_path / "bomb.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("03/masks.py", MASKS)
        zf.writestr("03/zeros.bin", b"\0" * (2 << 20))  # 2 MB of zeros compress to ~2 kB
    assert (tmp_path / "bomb.zip").stat().st_size < 20_000
    sub = read_submission(tmp_path / "bomb.zip", ["03"])
    assert sub.status == REJECTED and "zip bomb" in sub.problem


def test_oversized_learner_module_is_rejected(tmp_path, monkeypatch):
    # (Python's zipfile never reads past an entry's declared size, so a lying header gives a
    # CRC error, not more bytes; the per-module cap bounds what one honest entry may hold.)
    monkeypatch.setattr(intake, "MAX_MODULE_BYTES", 1000)
    write_zip(tmp_path / "big.zip", {"03/masks.py": b"# " + b"x" * 5000 + b"\n"})
    sub = read_submission(tmp_path / "big.zip", ["03"])
    assert sub.status == REJECTED and "03/masks.py" in sub.problem, sub.problem


def test_conftest_and_pytest_ini_are_named_and_never_taken(tmp_path):
    write_folder(tmp_path / "mallory", {"03/masks.py": MASKS, "03/conftest.py": b"import os\nos._exit(0)\n",
                                        "pytest.ini": b"[pytest]\naddopts = -p no:verlings\n"}, prefix="exercises/")
    sub = read_submission(tmp_path / "mallory", ["03"])
    assert sub.status == GRADED and sub.files == {"03/masks.py": MASKS}
    assert any("exercises/03/conftest.py" in n and "pytest.ini" in n for n in sub.notes), sub.notes


def test_the_course_own_conftest_in_a_whole_repo_is_not_noted(tmp_path):
    from verlings.paths import ROOT

    files = {"exercises/03/masks.py": MASKS, "conftest.py": (ROOT / "conftest.py").read_bytes()}
    write_folder(tmp_path / "repo", files)
    assert read_submission(tmp_path / "repo", ["03"]).notes == []


def test_symlink_in_a_folder_is_rejected(tmp_path):
    write_folder(tmp_path / "s", {"03/masks.py": MASKS})
    (tmp_path / "s" / "03" / "kl.py").symlink_to("/etc/passwd")
    sub = read_submission(tmp_path / "s", ["03"])
    assert sub.status == REJECTED and "symbolic link" in sub.problem


def test_other_files_are_rejected_with_a_reason(tmp_path):
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    (tmp_path / "broken.zip").write_bytes(b"not a zip")
    assert "not a folder or a .zip" in read_submission(tmp_path / "notes.pdf").problem
    assert "cannot be read" in read_submission(tmp_path / "broken.zip").problem


def test_digest_follows_the_files_the_chapters_and_the_options(tmp_path):
    write_folder(tmp_path / "a", {"03/masks.py": MASKS})
    sub = read_submission(tmp_path / "a", ["03"])
    key = sub.digest(["03"], {"partial": False})
    assert key == read_submission(tmp_path / "a", ["03"]).digest(["03"], {"partial": False})
    assert key != sub.digest(["03", "04"], {"partial": False})
    assert key != sub.digest(["03"], {"partial": True})
    (tmp_path / "a" / "03" / "masks.py").write_bytes(MASKS + b"# edited\n")
    assert key != read_submission(tmp_path / "a", ["03"]).digest(["03"], {"partial": False})


def test_synthetic_students_differ_where_they_should():
    ref, stubs, half = (student_files(k) for k in ("reference", "stubs", "half03"))
    assert ref.keys() == stubs.keys() == half.keys()
    assert half["03/masks.py"] == ref["03/masks.py"] != stubs["03/masks.py"]
    assert half["03/advantages.py"] == stubs["03/advantages.py"] != ref["03/advantages.py"]
