"""``python -m verlings.tools.reward_report``: on verl's data schema and on verl's own rollout dumps.

The rollout dump is written by verl 0.9.1's ``RayPPOTrainer._write_generations`` (what
``trainer.rollout_data_dir`` produces), so the tool is tested on the real format.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from verlings.paths import ROOT, SOLUTIONS
from verlings.target import load_module
from verlings.tools import reward_report

REWARD = f"{SOLUTIONS / '04' / 'custom_reward.py'}:compute_score"
ref = load_module("04", "custom_reward", root=SOLUTIONS)

RESPONSES = [
    ("<think>2+2=4</think> \\boxed{4}", "4", "toy"),
    ("\\boxed{1/2}", "0.5", "toy"),
    ("no idea " * 20, "3", "other"),
    ("<think>hmm</think> \\boxed{7}", "8", "other"),
]


def _parquet(tmp_path):
    rows = [
        {"data_source": src, "prompt": [{"role": "user", "content": f"question {i}"}], "ability": "math",
         "reward_model": {"style": "rule", "ground_truth": gt}, "extra_info": {"index": i, "split": "test"},
         "response": text}
        for i, (text, gt, src) in enumerate(RESPONSES)
    ]
    path = tmp_path / "responses.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def _report(*args: str) -> tuple[int, dict | None, str]:
    proc = subprocess.run([sys.executable, "-m", "verlings.tools.reward_report", *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    summary = json.loads(proc.stdout) if "--json" in args and proc.returncode == 0 else None
    return proc.returncode, summary, proc.stderr


def _expected_scores() -> list[float]:
    return [ref.compute_score("x", text, gt)["score"] for text, gt, _ in RESPONSES]


def test_report_on_verl_dataset_schema(tmp_path):
    code, summary, err = _report(_parquet(tmp_path), "--reward", REWARD, "--json", "--top", "2")
    assert code == 0, err
    expected = _expected_scores()
    assert summary["rows"] == 4 and summary["errors"] == 0
    assert math.isclose(summary["mean"], sum(expected) / 4)
    assert math.isclose(summary["max"], max(expected)) and math.isclose(summary["min"], min(expected))
    assert set(summary["components"]) == {"correct", "format", "length"}
    assert math.isclose(summary["components"]["correct"]["mean"], 0.5)  # rows 0 and 1 are right
    assert [e["index"] for e in summary["worst"]] == [2, 3]  # 0.0 ("no idea"), then 0.1 (wrong but formatted)
    assert summary["best"][0]["index"] == 0
    assert set(summary["by_data_source"]) == {"toy", "other"}
    assert sum(b["count"] for b in summary["histogram"]) == 4


def test_report_on_a_verl_rollout_dump(tmp_path):
    from verl.trainer.ppo.ray_trainer import RayPPOTrainer

    expected = _expected_scores()
    logged = list(expected)
    logged[1] = 0.0  # a run that scored row 1 differently (e.g. with string equality)
    RayPPOTrainer._write_generations(
        inputs=[f"question {i}" for i in range(4)], outputs=[t for t, _, _ in RESPONSES],
        gts=[g for _, g, _ in RESPONSES], scores=logged, reward_extra_infos_dict={"acc": [1, 0, 0, 0]},
        dump_path=str(tmp_path), global_steps=7,
    )
    dump = tmp_path / "7.jsonl"
    assert dump.is_file()
    code, summary, err = _report(dump, "--reward", REWARD, "--json")
    assert code == 0, err
    assert summary["disagree_with_logged"] == 1
    assert summary["disagreements"][0]["index"] == 1
    # Without --reward: the logged column itself.
    code, summary, err = _report(dump, "--json")
    assert code == 0, err
    assert math.isclose(summary["mean"], sum(logged) / 4)


def test_report_async_reward_and_errors(tmp_path):
    module = tmp_path / "my_reward.py"
    module.write_text(textwrap.dedent("""
        import asyncio

        async def compute_score(data_source, solution_str, ground_truth, extra_info=None):
            await asyncio.sleep(0)
            if "idea" in solution_str:
                raise ValueError("cannot score this one")
            return {"score": float(len(solution_str) % 3), "chars": len(solution_str)}
    """))
    code, summary, err = _report(_parquet(tmp_path), "--reward", f"{module}:compute_score", "--json")
    assert code == 0, err
    assert summary["errors"] == 1 and "cannot score this one" in summary["first_errors"][0]
    assert summary["scored"] == 3 and "chars" in summary["components"]


def test_report_renders_tables(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "verlings.tools.reward_report", str(_parquet(tmp_path)),
                           "--reward", REWARD], capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={"COLUMNS": "140", "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    for text in ("worst examples", "best examples", "components", "correct"):
        assert text in proc.stdout


@pytest.mark.parametrize(
    ("make", "reward", "message"),
    [
        (lambda p: p / "missing.parquet", REWARD, "no such file"),
        (lambda p: (p / "bad.parquet").write_text("not parquet") and p / "bad.parquet", REWARD, "cannot read"),
        (lambda p: (p / "rows.csv").write_text("a,b") and p / "rows.csv", REWARD, "unknown file type"),
        (lambda p: (p / "empty.jsonl").write_text("") is not None and p / "empty.jsonl", REWARD, "no rows"),
        (lambda p: (p / "x.jsonl").write_text('{"text": "hi"}\n') and p / "x.jsonl", REWARD, "no response column"),
        (lambda p: (p / "x.jsonl").write_text('{"response": "hi"}\n{oops\n') and p / "x.jsonl", REWARD,
         "not valid JSON"),
        (_parquet, "no_such_module_xyz:compute_score", "importing no_such_module_xyz failed"),
        (_parquet, f"{SOLUTIONS / '04' / 'custom_reward.py'}:nope", "no function 'nope'"),
        (_parquet, ":compute_score", "expected MODULE:FUNCTION"),
        (_parquet, None, "no 'score' column"),
    ],
    ids=["missing", "not_parquet", "csv", "empty", "no_response", "bad_json", "bad_module", "bad_function",
         "bad_spec", "nothing_to_report"],
)
def test_bad_input_is_one_clear_line(tmp_path, make, reward, message):
    path = make(tmp_path)
    args = [path] + (["--reward", reward] if reward else [])
    code, _, err = _report(*args)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], err
    assert "Traceback" not in err


def test_summarise_flags_a_constant_reward():
    rows = [{"response": "a", "ground_truth": "1"}] * 3
    results = [{"score": 1.0, "components": {}, "error": None}] * 3
    summary = reward_report.summarise(rows, results)
    assert summary["distinct"] == 1 and summary["std"] == 0
