"""Chapter 02 data tools against verl 0.9.1: the checker agrees with RLHFDataset's length filter,
and the check_data command line never shows a traceback."""

import json
import subprocess
import sys

import pytest

from verlings.fixtures.gsm8k import generate
from verlings.fixtures.tokenizer import local_tokenizer
from verlings.paths import ROOT, SOLUTIONS
from verlings.target import load_module

data = load_module("02", "gsm8k_data", root=SOLUTIONS)
check = load_module("02", "data_check", root=SOLUTIONS)


def run_cli(*args, module=True):
    command = [sys.executable, "-m", "verlings.tools.check_data"] if module else \
        [sys.executable, str(SOLUTIONS / "02" / "data_check.py")]
    return subprocess.run([*command, *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("check-data")
    rows = [data.make_row(e, i, "train") for i, e in enumerate(generate(12, seed=5))]
    data.write_parquet(rows, tmp / "good.parquet")
    bad_rows = [dict(r) for r in rows]
    bad_rows[3] = {**bad_rows[3], "prompt": [{"role": "robot", "content": "beep"}]}
    data.write_parquet(bad_rows, tmp / "problems.parquet")
    good = (tmp / "good.parquet").read_bytes()
    out = {"good": tmp / "good.parquet", "problems": tmp / "problems.parquet",
           "missing": tmp / "nope.parquet", "folder": tmp / "folder.parquet", "empty": tmp / "empty.parquet",
           "csv": tmp / "csv.parquet", "json": tmp / "json.parquet", "truncated": tmp / "truncated.parquet",
           "bad_footer": tmp / "bad-footer.parquet", "garbage": tmp / "garbage.parquet"}
    out["folder"].mkdir()
    out["empty"].write_bytes(b"")
    out["csv"].write_text("data_source,prompt\nopenai/gsm8k,hi\n")
    out["json"].write_text(json.dumps(rows[:2]))
    out["truncated"].write_bytes(good[: len(good) * 2 // 3])
    out["bad_footer"].write_bytes(good[:-8] + b"\xff\xff\xff\x7f" + b"PAR1")
    out["garbage"].write_bytes(b"PAR1" + bytes(range(256)) * 4 + b"PAR1")
    return out


BAD = ["missing", "folder", "empty", "csv", "json", "truncated", "bad_footer", "garbage"]


@pytest.mark.parametrize("kind", BAD)
@pytest.mark.parametrize("module", [True, False], ids=["tool", "script"])
def test_cli_bad_input_one_line(files, kind, module):
    result = run_cli(files[kind], module=module)
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert files[kind].name in lines[0], lines[0]
    assert result.stdout == ""


def test_cli_report_exit_codes(files):
    good = run_cli(files["good"])
    assert good.returncode == 0 and "OK" in good.stdout, good
    bad = run_cli(files["problems"])
    assert bad.returncode == 1 and "bad_role" in bad.stdout and "row 3" in bad.stdout, bad


@pytest.mark.timeout(300)  # a subprocess that imports transformers: slow on a busy machine
def test_cli_max_prompt_length_uses_the_course_tokenizer(files):
    short = run_cli(files["good"], "--max-prompt-length", "8")
    assert short.returncode == 1 and "prompt_too_long" in short.stdout and "prompt_tokens" in short.stdout, short
    script = run_cli(files["good"], "--max-prompt-length", "8", module=False)  # the script needs --tokenizer
    assert script.returncode == 2 and "Traceback" not in script.stderr, script


def test_prompt_too_long_agrees_with_rlhf_dataset(tmp_path, monkeypatch):
    """The rows the checker flags are exactly the rows verl's length filter drops."""
    import datasets
    from omegaconf import OmegaConf
    from verl.utils.dataset.rl_dataset import RLHFDataset

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "hf"))
    tokenizer = local_tokenizer()
    rows = [data.make_row(e, i, "train", style="system") for i, e in enumerate(generate(40, seed=9))]
    path = tmp_path / "rows.parquet"
    data.write_parquet(rows, path)
    lengths = sorted(check.check_dataset(path, tokenizer=tokenizer).stats["prompt_tokens"].values())
    limit = int(lengths[1])  # the mean: some rows above, some below
    report = check.check_dataset(path, tokenizer=tokenizer, max_prompt_length=limit)
    flagged = {p.row for p in report.by_code("prompt_too_long")}
    assert 0 < len(flagged) < len(rows)
    config = OmegaConf.create({"cache_dir": str(tmp_path / "verl"), "max_prompt_length": limit,
                               "filter_overlong_prompts_workers": 1})
    kept = {item["index"] for item in RLHFDataset(str(path), tokenizer, config)}
    assert kept == set(range(len(rows))) - flagged
