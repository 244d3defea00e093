"""class.html in a real headless browser (Debian's ``chromium``): it renders, from the page alone.

Skipped where chromium is not installed (``apt-get install -y chromium``). The screenshot is kept
in the test's temporary folder (its path is printed) for a person to look at.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess

import pytest

from verlings.batch.classreport import histogram, render_csv, summary, write_reports
from verlings.batch.runner import exercise_columns

BROWSER = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
WIDTH, HEIGHT = 1200, 1800
BAR_BLUE = (0x3B, 0x7D, 0xD8)  # the histogram's bars
NOT_DONE = "NotImplementedError: implement masked_mean — see exercises/03/README.md §1.3"


def _class() -> tuple[list[dict], list[dict]]:
    """Twelve students: the first k exercises passed, the rest failed with one of two messages."""
    columns = exercise_columns(["03"])
    rows = []
    for k in range(12):
        done = k * len(columns) // 11
        exercises = {}
        for i, c in enumerate(columns):
            ok = i < done
            message = "" if ok else (NOT_DONE if k % 3 else "AssertionError: masked_mean: values differ")
            exercises[c["id"]] = {"status": "passed" if ok else "failed", "score": float(c["points"]) if ok else 0.0,
                                  "max_score": c["points"], "message": message}
        rows.append({"student": f"student-{k:02d} <&>", "status": "graded", "notes": [], "digest": "",
                     "exercises": exercises, "duration_s": 1.0, "log": ""})
    rows.append({"student": "zz-empty", "status": "empty", "notes": ["no learner module found"], "digest": "",
                 "exercises": {}, "duration_s": 0.0, "log": ""})
    return rows, columns


def _chromium(*args: str, profile) -> subprocess.CompletedProcess:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}"]
    return subprocess.run([BROWSER, *flags, *args], capture_output=True, text=True, timeout=120)


def _png_pixels(path) -> list[tuple[int, int, int]]:
    from PIL import Image

    with Image.open(path) as im:
        rgb = im.convert("RGB")
        return [rgb.getpixel((x, y)) for y in range(0, rgb.height, 2) for x in range(0, rgb.width, 2)]


def test_page_is_self_contained_and_escapes_names(tmp_path):
    rows, columns = _class()
    paths = write_reports(tmp_path / "class.csv", rows, columns, {"chapters": ["03"]})
    page = paths[2].read_text(encoding="utf-8")
    assert not re.search(r"<(script|link|img|iframe)\b", page), "nothing may be fetched by the page"
    assert not re.search(r"(src|href)=", page)
    assert "student-00 &lt;&amp;&gt;" in page and "student-00 <&>" not in page


def test_histogram_and_summary_by_hand():
    # totals 0, 5, 10 (max 10) in 10 bins: 0 → bin 0, 5 → bin 5, a full score → the last bin
    assert histogram([0, 5, 10], 10) == [1, 0, 0, 0, 0, 1, 0, 0, 0, 1]
    rows, columns = _class()
    stats = {s["id"]: s for s in summary(rows, columns)}
    first = stats[columns[0]["id"]]
    # only student-00 (done = 0) fails the first exercise; 12 graded students, the empty one not counted
    assert (first["passed"], first["students"]) == (11, 12)
    assert first["common_failure"] == "AssertionError: masked_mean: values differ"
    last = stats[columns[-1]["id"]]
    # the last exercise is passed by student-11 only; of the 11 failing, k % 3 != 0 → 7 say NOT_DONE
    assert (last["passed"], last["common_failure"], last["common_failure_count"]) == (1, NOT_DONE, 7)
    assert render_csv(rows, columns).splitlines()[-1].startswith("zz-empty,0,")


@pytest.mark.skipif(BROWSER is None, reason="chromium is not installed (apt-get install -y chromium)")
@pytest.mark.timeout(300)
def test_page_renders_in_headless_chromium(tmp_path):
    rows, columns = _class()
    html = write_reports(tmp_path / "class.csv", rows, columns, {"chapters": ["03"]})[2]
    url = html.resolve().as_uri()

    dom = _chromium("--dump-dom", url, profile=tmp_path / "profile-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert len(re.findall(r'<rect class="bin"', dom.stdout)) == 10, "ten histogram bins"
    assert len(re.findall(r'<rect class="rate"', dom.stdout)) == len(columns), "one pass-rate bar per exercise"
    assert NOT_DONE.split(" — ")[0] in dom.stdout, "the most common failure is shown"

    shot = tmp_path / "class.png"
    run = _chromium(f"--window-size={WIDTH},{HEIGHT}", f"--screenshot={shot}", url, profile=tmp_path / "profile")
    assert run.returncode == 0 and shot.is_file(), run.stderr[-2000:]
    print(f"screenshot of class.html: {shot}")
    with open(shot, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", head[16:24]) == (WIDTH, HEIGHT)
    pytest.importorskip("PIL", reason="Pillow is needed to look inside the screenshot")
    pixels = _png_pixels(shot)  # every other pixel in each direction: a quarter of them
    blue = sum(1 for p in pixels if all(abs(a - b) <= 8 for a, b in zip(p, BAR_BLUE, strict=True)))
    assert blue > 500, f"the histogram's bars were not drawn ({blue} blue pixels)"
    colours = {p for p in pixels[:: 97]}
    assert len(colours) > 20, "the page rendered more than a blank screen"
