"""Staged hints live in chapter.toml, where the grader reads them; each file opens with a spoiler note
so that a learner who opens it is told to ask for one hint at a time instead (issue 21)."""

import pytest

from verlings.paths import EXERCISES, chapter_ids


@pytest.mark.parametrize("chapter", chapter_ids())
def test_chapter_toml_opens_with_a_spoiler_note(chapter):
    head = (EXERCISES / chapter / "chapter.toml").read_text(encoding="utf-8").split("format_version")[0]
    assert "SPOILERS" in head and "剧透" in head and "python grader.py hint" in head, (
        f"exercises/{chapter}/chapter.toml must start with the bilingual spoiler note (copy it from chapter 01): "
        "the staged hints below it go up to a near-solution"
    )
