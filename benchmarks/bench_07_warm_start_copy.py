"""Chapter 07: does the warm start copy the numbers? (transformers, greedy, held-out pairs; no Ray).

    python benchmarks/bench_07_warm_start_copy.py                       # the course's warm start (cached)
    python benchmarks/bench_07_warm_start_copy.py --hf PATH             # any Hugging Face folder
    python benchmarks/bench_07_warm_start_copy.py --train --steps 240   # a recipe, trained here in plain torch
    python benchmarks/bench_07_warm_start_copy.py --verl --steps 1000 --save-every 250  # verl's SFT trainer

Three numbers on the held-out pairs (:meth:`MulTask.held_out`, never trained on), prompts rendered
as the agent loop renders them (chat template with the tool schema):

- ``call_rate``: the first assistant turn holds a call the reference ``parse_hermes`` reads;
- ``expr_match``: share of prompts whose call's ``expression`` equals the question's (``"347 * 29"``);
- ``answer_copy``: given a *correct* tool turn (the true product), the second assistant turn
  equals the tool's output.

``--train`` scans recipes in seconds per step instead of verl's minutes: it imitates verl's SFT
trainer on the same rows (padded rows with an attention mask, i.e. ``use_remove_padding=False``;
loss on the assistant turns only, averaged over those tokens; AdamW with verl's defaults —
betas 0.9/0.999, constant lr, no warm-up, grad clip 1.0; weight decay 0 as the course's recipe).
``--packed`` imitates ``use_remove_padding=True`` with sdpa: one row per batch, no mask between
conversations (chapter 06 §5.1). ``--fixed-width`` draws 3-digit × 2-digit pairs whose product has
5 digits (a in 200..999, b in 50..99), so every digit sits at the same offset in every conversation.
``--hidden/--layers/--heads`` train a bigger Qwen2 than chapter 06's. ``--drill-share P`` makes a
share P of the rows short *drills* (:func:`drill_rows`, also ``MultiTurnSFTDataset`` rows:
``messages`` with an empty system message and ``tools`` empty: the tool schema is not in them);
``--drill-kind`` picks which (``notools``: the whole conversation; ``pieces``: half the question →
call, half the tool's answer → answer; ``bare``: the latter without the question);
``--drill-pairs even`` draws the drills' ``a`` with 2 or 3 digits alike (the task draws it
uniformly from 10..999: 2-digit ``a`` in 9 % of rows, so a copy by fixed offset passes training but
fails on them), still never a held-out pair. The rows of one batch are drawn independently (verl
shuffles one parquet); drills and full rows go through the model as two padded groups but share one
loss averaged over all their assistant tokens, which is what one padded batch of both computes.
``train_s`` counts the evaluations too; ``eval_s`` says how much of it they took. Each option
changes one thing; results in ``benchmarks/results/bench_07_warm_start_copy.json`` when ``--record NAME`` is given.

``--verl`` runs verl's SFT trainer itself (``verlings.capstone.sft.command``) on the course's
recipe (:data:`verlings.agent_rl.warm_start.RECIPE`) with ``--steps`` and ``--seed`` changed, keeps
a Hugging Face checkpoint every ``--save-every`` steps (``trainer.save_freq``) and evaluates each;
``--bf16`` leaves verl's default mixed precision on (the recipe computes in fp32). The rows of a
checkpoint's steps are those of the recipe's own run, so the recipe's warm start is the checkpoint
at its step count.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "bench_07_warm_start_copy.json"
sys.path.insert(0, str(ROOT))

from verlings.agent_rl import task as task_module  # noqa: E402


def _ids(tok, messages: list[dict], tools: list[dict], gen: bool = False) -> list[int]:
    out = tok.apply_chat_template(messages, tools=tools, add_generation_prompt=gen, tokenize=True)
    return list(out["input_ids"] if hasattr(out, "keys") else out)


def _generate(model, tok, ids: list[int], max_new: int) -> str:
    import torch

    end = tok.convert_tokens_to_ids("<|im_end|>")
    with torch.no_grad():
        out = model.generate(
            torch.tensor([ids]),
            max_new_tokens=max_new,
            do_sample=False,
            eos_token_id=end,
            pad_token_id=tok.pad_token_id,
        )
    return tok.decode(out[0, len(ids) :]).replace("<|im_end|>", "").strip()


def evaluate(model, tok, pairs: list[tuple[int, int]]) -> dict:
    """call_rate, expr_match and answer_copy over ``pairs`` (greedy), and two examples."""
    from verlings.agent_rl import task
    from verlings.target import load_module

    parse = load_module("05", "tool_parser", root=ROOT / "solutions").parse_hermes
    tools = [task.TOOL_SCHEMA]
    was_training = model.training
    model.eval()
    calls = exprs = copies = 0
    examples = []
    for a, b in pairs:
        conv = task.conversation(a, b)
        first = _generate(model, tok, _ids(tok, conv[:1], tools, gen=True), 48)
        found = parse(first)[1]
        expr = None
        if found:
            calls += 1
            try:
                expr = json.loads(found[0]["arguments"]).get("expression")
            except (ValueError, AttributeError):
                expr = None
            exprs += expr == task.expression(a, b)
        second = _generate(model, tok, _ids(tok, conv[:3], tools, gen=True), 8)
        copies += second == str(a * b)
        if len(examples) < 2:
            examples.append({"question": task.question(a, b), "expression": expr, "answer_after_true_tool": second})
    model.train(was_training)
    n = len(pairs)
    return {"n": n, "call_rate": calls / n, "expr_match": exprs / n, "answer_copy": copies / n, "examples": examples}


def _assistant_mask(tok, ids: list[int]) -> list[int]:
    """1 on the assistant turns' tokens after ``<|im_start|>assistant\\n`` up to ``<|im_end|>`` and the
    newline after it — where verl's MultiTurnSFTDataset puts the loss (tests/test_bench_07_warm_start_copy.py)."""
    start, end = tok.convert_tokens_to_ids("<|im_start|>"), tok.convert_tokens_to_ids("<|im_end|>")
    head = tok.encode("assistant\n", add_special_tokens=False)
    newline = tok.encode("\n", add_special_tokens=False)[0]
    mask, i = [0] * len(ids), 0
    while i < len(ids):
        if ids[i] == start and ids[i + 1 : i + 1 + len(head)] == head:
            j = i + 1 + len(head)
            while j < len(ids) and ids[j - 1] != end:
                mask[j] = 1
                j += 1
            if j < len(ids) and ids[j] == newline:
                mask[j] = 1
            i = j
        else:
            i += 1
    return mask


DRILL_KINDS = task_module.DRILL_KINDS
drill_rows = task_module.drill_rows


def draw_drill_pair(the_task, how: str, rng: random.Random) -> tuple[int, int]:
    """A training pair for a drill: ``task`` as :meth:`MulTask.draw_train`; ``even``: ``a`` has 2 or 3
    digits with equal chance (within the task's range), never a held-out pair."""
    if how == "task":
        return the_task.draw_train(1, rng)[0]
    if how != "even":
        raise ValueError(f"unknown drill pairs {how!r}")
    banned = set(the_task.held_out())
    while True:
        low, high = (10, 99) if rng.random() < 0.5 else (100, 999)
        pair = (rng.randint(max(low, the_task.a_low), min(high, the_task.a_high)),
                rng.randint(the_task.b_low, the_task.b_high))
        if pair not in banned:
            return pair


def train(args: argparse.Namespace, log=print):
    """Plain-torch SFT of the chapter-06 Qwen2 (or a bigger one) on chapter 07's conversations."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from verlings.agent_rl import task
    from verlings.capstone.model import SEED, build_model

    model, tok = build_model()
    if args.hidden:
        cfg = model.config.to_dict()
        cfg.pop("layer_types", None)
        cfg.update(
            hidden_size=args.hidden,
            intermediate_size=2 * args.hidden,
            num_hidden_layers=args.layers,
            num_attention_heads=args.heads,
            num_key_value_heads=max(1, args.heads // 2),
            head_dim=args.hidden // args.heads,
        )
        torch.manual_seed(SEED)
        model = Qwen2ForCausalLM(Qwen2Config(**cfg))
    model.config._attn_implementation = "sdpa"
    the_task = task.MulTask(a_low=200, b_low=50) if args.fixed_width else task.TASK
    torch.manual_seed(args.seed)
    rng = random.Random(f"{args.seed}-sft")
    tools = [task.TOOL_SCHEMA]
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.999), weight_decay=0.0)
    curve, start, eval_s = [], time.monotonic(), 0.0
    model.train()
    for step in range(1, args.steps + 1):
        groups: dict[bool, list[list[int]]] = {False: [], True: []}
        for a, b in the_task.draw_train(args.batch_size, rng):
            if args.drill_share and rng.random() < args.drill_share:
                if args.drill_pairs != "task":
                    a, b = draw_drill_pair(the_task, args.drill_pairs, rng)
                row = drill_rows(a, b, args.drill_kind, rng.randrange(2))
                groups[True].append(_ids(tok, row["messages"], row["tools"]))
            else:
                groups[False].append(_ids(tok, task.conversation(a, b), tools))
        total, count = 0.0, 0.0
        for rows in groups.values():
            if not rows:
                continue
            width = max(map(len, rows))
            ids = torch.full((len(rows), width), tok.pad_token_id)
            mask = torch.zeros(len(rows), width)
            att = torch.zeros(len(rows), width, dtype=torch.long)
            for k, r in enumerate(rows):
                ids[k, : len(r)] = torch.tensor(r)
                mask[k, : len(r)] = torch.tensor(_assistant_mask(tok, r), dtype=torch.float)
                att[k, : len(r)] = 1
            if args.packed:
                keep = att.bool()
                positions = (att.cumsum(1) - 1)[keep][None]
                ids, mask = ids[keep][None], mask[keep][None]
                logits = model(input_ids=ids, position_ids=positions).logits
            else:
                logits = model(input_ids=ids, attention_mask=att).logits
            nll = torch.nn.functional.cross_entropy(
                logits[:, :-1].flatten(0, 1), ids[:, 1:].flatten(), reduction="none"
            )
            total = total + (nll * mask[:, 1:].flatten()).sum()
            count += mask[:, 1:].sum().item()
        loss = total / count
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 20 == 0:
            log(f"step {step} loss {loss.item():.3f} ({time.monotonic() - start:.0f} s)")
        if args.eval_every and step % args.eval_every == 0 and step != args.steps:
            t_eval = time.monotonic()
            point = evaluate(model, tok, the_task.held_out()[: args.n])
            eval_s += time.monotonic() - t_eval
            curve.append(
                {
                    "step": step,
                    "s": round(time.monotonic() - start - eval_s, 1),
                    "loss": round(loss.item(), 4),
                    **{k: point[k] for k in ("call_rate", "expr_match", "answer_copy")},
                }
            )
            log(json.dumps(curve[-1]))
    params = sum(p.numel() for p in model.parameters())
    return (
        model,
        tok,
        the_task,
        {
            "final_loss": round(loss.item(), 4),
            "train_s": round(time.monotonic() - start, 1),
            "eval_s": round(eval_s, 1),
            "threads": torch.get_num_threads(),
            "params": params,
            "curve": curve,
        },
    )


def load_hf(hf: Path):
    """A Hugging Face folder's model and tokenizer, the model in fp32 as the CPU rollout runs it
    (capstone.launcher.cpu_overrides): verl saves ``"dtype": "bfloat16"`` in config.json, which
    transformers 5 would load it in by default."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(hf, dtype="float32"), AutoTokenizer.from_pretrained(hf)


def train_verl(args: argparse.Namespace, log=print) -> tuple[dict, list[dict]]:
    """verl's SFT trainer on the course's recipe (steps, seed and precision from ``args``); the held-out
    evaluation of every saved checkpoint."""
    import shutil
    import subprocess
    import tempfile
    from dataclasses import asdict, replace

    from verlings.agent_rl import task
    from verlings.agent_rl.warm_start import RECIPE
    from verlings.capstone import sft

    recipe = replace(RECIPE, steps=args.steps, seed=args.seed, fp32=not args.bf16)
    every = args.save_every or args.steps
    work = Path(tempfile.mkdtemp(prefix="verlings-bench07-sft-"))
    try:
        sft.write_data(recipe, work / "data")
        cmd, env = sft.command(recipe, work)
        start = time.monotonic()
        with open(work / "sft.log", "w", encoding="utf-8") as out:
            code = subprocess.run([*cmd, f"trainer.save_freq={every}"], env=env, cwd=work, stdout=out,
                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL).returncode
        train_s = round(time.monotonic() - start, 1)
        if code != 0:
            raise SystemExit(f"verl's SFT trainer failed (exit {code}); log: {work / 'sft.log'}")
        curve = []
        for step in range(every, args.steps + 1, every):
            model, tok = load_hf(work / "checkpoints" / f"global_step_{step}" / "huggingface")
            point = evaluate(model, tok, task.TASK.held_out()[: args.n])
            curve.append({"step": step, **{k: point[k] for k in ("call_rate", "expr_match", "answer_copy")}})
            log(json.dumps(curve[-1]))
        shutil.rmtree(work)
    except BaseException:
        log(f"(kept {work})")
        raise
    setting = {"verl": True, "recipe": asdict(recipe), "save_every": every, "n": args.n}
    return {"setting": setting, "train_s": train_s, "curve": curve}, curve


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--hf", default=None, help="a Hugging Face folder (default: the course's warm start)")
    p.add_argument("--n", type=int, default=32, help="held-out pairs evaluated")
    p.add_argument("--train", action="store_true", help="train a recipe here (plain torch) instead")
    p.add_argument("--steps", type=int, default=80)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--packed", action="store_true")
    p.add_argument("--fixed-width", action="store_true")
    p.add_argument("--hidden", type=int, default=0)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--heads", type=int, default=2)
    p.add_argument("--eval-every", type=int, default=0)
    p.add_argument("--drill-share", type=float, default=0.0, help="share of rows that are short drills (drill_rows)")
    p.add_argument("--drill-kind", default="notools", choices=DRILL_KINDS, help="which drills (see drill_rows)")
    p.add_argument("--drill-pairs", default="task", choices=("task", "even"), help="drills' pairs (draw_drill_pair)")
    p.add_argument("--verl", action="store_true", help="train with verl's SFT trainer (the course's recipe)")
    p.add_argument("--save-every", type=int, default=0, help="--verl: evaluate a checkpoint every this many steps")
    p.add_argument("--bf16", action="store_true", help="--verl: verl's default bf16 compute instead of fp32")
    p.add_argument("--record", default=None, help="store the result under this name in " + str(RESULTS.name))
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    sys.path.insert(0, str(ROOT))
    load0 = os.getloadavg()[0]
    from benchmarks._results import finish

    if args.verl:
        info, curve = train_verl(args)
        finish({**info, **curve[-1]}, load0, RESULTS, args.record)
        return 0
    if args.train:
        model, tok, the_task, info = train(args)
        setting = {k: v for k, v in vars(args).items() if k not in ("hf", "record", "train")}
    else:
        from verlings.agent_rl import task, warm_start

        hf = Path(args.hf) if args.hf else warm_start.warm_start()
        model, tok = load_hf(hf)
        the_task, info, setting = task.TASK, {}, {"hf": str(hf), "n": args.n}
    result = {
        "setting": setting,
        **info,
        **evaluate(model, tok, the_task.held_out()[: args.n]),
    }
    finish(result, load0, RESULTS, args.record)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
