"""After training: export the actor with verl's model merger, then evaluate it with transformers.

* :func:`export` — ``python -m verl.model_merger merge --backend fsdp`` turns the FSDP
  checkpoint verl saved (``checkpoints/global_step_N/actor``) into a Hugging Face folder;
* :func:`evaluate` — loads that folder with ``transformers``, answers every held-out prompt
  greedily (the same prompts, chat template and answer length as verl's validation), and scores
  each answer with the learner's ``compute_score``: exact-match accuracy is the mean of ``acc``
  (``correct`` where the reward has no ``acc``);
* :func:`logged_accuracy` — the accuracy verl's own validation logged for the last step, to
  check the two agree.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from verlings.capstone.data import DATA_SOURCE, TASK, make_rows

ACC_KEYS = ("acc", "correct")  # verl's validation puts "acc" in val-core; the course's reward also says "correct"


class ExportError(RuntimeError):
    """No checkpoint to merge, or the merger failed (the message says what to do)."""


def latest_actor_checkpoint(run_dir: Path) -> Path:
    """``<run>/checkpoints/global_step_N/actor`` for the largest N, else :class:`ExportError`."""
    steps = sorted((run_dir / "checkpoints").glob("global_step_*/actor"),
                   key=lambda p: int(p.parent.name.rsplit("_", 1)[1]))
    if not steps:
        raise ExportError(f"no saved actor under {run_dir / 'checkpoints'} — train first: "
                          "python grader.py capstone --plot (it saves the last step)")
    return steps[-1]


def export(run_dir: str | Path, python: str | None = None, timeout_s: float = 600) -> Path:
    """Merge the last saved actor to ``<run>/hf`` with verl's model merger; returns that folder."""
    run_dir = Path(run_dir)
    actor = latest_actor_checkpoint(run_dir)
    target = run_dir / "hf"
    cmd = [python or sys.executable, "-m", "verl.model_merger", "merge", "--backend", "fsdp",
           "--local_dir", str(actor), "--target_dir", str(target)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    (run_dir / "merge.log").write_text(done.stdout + done.stderr, encoding="utf-8")
    if done.returncode != 0 or not (target / "config.json").is_file():
        raise ExportError(f"verl's model merger failed (exit {done.returncode}): {' '.join(cmd)}\n"
                          + "\n".join((done.stdout + done.stderr).splitlines()[-15:]))
    return target


@dataclass
class Evaluation:
    accuracy: float
    n: int
    samples: list[dict[str, Any]] = field(default_factory=list)


def greedy_answers(model_dir: str | Path, questions: list[str], max_new_tokens: int = 32,
                   batch_size: int = 64) -> list[str]:
    """Greedy answers from a Hugging Face folder, prompted with its chat template (as verl does)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(model_dir))
    tok.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(str(model_dir), torch_dtype=torch.float32)
    model.eval()
    answers = []
    for i in range(0, len(questions), batch_size):
        chats = [tok.apply_chat_template([{"role": "user", "content": q}], tokenize=False,
                                         add_generation_prompt=True) for q in questions[i : i + batch_size]]
        enc = tok(chats, return_tensors="pt", padding=True, add_special_tokens=False)
        with torch.no_grad():
            out = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False,
                                 eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
        answers += tok.batch_decode(out[:, enc["input_ids"].shape[1] :], skip_special_tokens=True)
    return answers


def evaluate(model_dir: str | Path, score_fn: Any, n_val: int = 64, max_new_tokens: int = 32,
             n_samples: int = 5) -> Evaluation:
    """Exact-match accuracy of greedy answers on the first ``n_val`` held-out prompts."""
    rows = make_rows(n_val, seed=0, split="val", task=TASK)
    questions = [r["prompt"][0]["content"] for r in rows]
    answers = greedy_answers(model_dir, questions, max_new_tokens)
    hits, samples = [], []
    for row, q, a in zip(rows, questions, answers):
        truth = row["reward_model"]["ground_truth"]
        result = score_fn(data_source=DATA_SOURCE, solution_str=a, ground_truth=truth, extra_info=row["extra_info"])
        key = next((k for k in ACC_KEYS if isinstance(result, dict) and k in result), None)
        hit = float(result[key]) if key else float(a.strip() == truth)
        hits.append(hit)
        if len(samples) < n_samples:
            samples.append({"question": q, "answer": a, "truth": truth, "correct": bool(hit)})
    return Evaluation(accuracy=sum(hits) / len(hits) if hits else 0.0, n=len(hits), samples=samples)


def logged_accuracy(run_dir: str | Path) -> tuple[str, list[tuple[int, float]]] | None:
    """``(tag, [(step, accuracy), ...])`` from the run's TensorBoard events: verl's validation."""
    from verlings.capstone.summary import read_scalars

    logdir = Path(run_dir) / "tensorboard"
    if not logdir.is_dir():
        return None
    scalars = read_scalars(logdir)
    for key in ACC_KEYS:
        tag = f"val-core/{DATA_SOURCE}/{key}/mean@1"
        for t in (tag, tag.replace("val-core", "val-aux")):
            if t in scalars:
                return t, scalars[t]
    return None


def write_report(run_dir: Path, ev: Evaluation, logged: tuple[str, list] | None) -> Path:
    path = run_dir / "eval.json"
    path.write_text(json.dumps({"accuracy": ev.accuracy, "n": ev.n, "samples": ev.samples,
                                "verl_logged": logged}, indent=1) + "\n", encoding="utf-8")
    return path
