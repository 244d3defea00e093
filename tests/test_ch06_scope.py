"""Chapter 06's "not covered" line must not list what its own exercises teach (issue 25 §4):
06.lora teaches KL through the LoRA actor with its adapter off (``ref_in_actor``); only a
*separate* reference worker stays out of scope (it needs an accelerator on the CPU path)."""

from __future__ import annotations

import pytest

from verlings.chapters import load_chapter


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_ch06_out_of_scope_leaves_ref_in_actor_kl_in(lang):
    chapter = load_chapter("06")
    assert any(e.name == "lora" for e in chapter.exercises), "06.lora teaches the reference policy"
    text = chapter.out_of_scope[lang]
    for stale in ("KL to a reference model", "对参考模型的 KL"):
        assert stale not in text, f"06 out_of_scope ({lang}) still says {stale!r}, which 06.lora teaches: {text}"
    assert "ref_in_actor" in text and "§9" in text, f"06 out_of_scope ({lang}) should point to §9: {text}"
