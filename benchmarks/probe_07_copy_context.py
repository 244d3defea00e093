"""Chapter 07: can the chapter's tiny Qwen2 copy a number, and what stops it? (plain torch, one thread)

    python benchmarks/probe_07_copy_context.py --context short           # ~25 tokens: learns in ~100 steps
    python benchmarks/probe_07_copy_context.py --context full --steps 300   # the real 234-token conversation
    python benchmarks/probe_07_copy_context.py --context drill --record drill_400

One question, one change at a time: the model (``verlings.capstone.model.build_model``) learns to
repeat the number in a tool response, with the loss on the copied answer (and ``<|im_end|>``) only,
so nothing but copying is learned. The contexts differ in length and in distractor digits:

- ``short``: ``<tool_response>\\nN\\n</tool_response><|im_end|>\\n<|im_start|>assistant\\n`` -> ``N``
  (N a 3- to 5-digit number; no other digits, ~25 tokens);
- ``long`` / ``vlong``: the same after ~56 / ~230 tokens of filler text (no digits in it);
- ``notools``: the chapter's conversation (question, tool call, tool answer) rendered by the chat
  template *without* the tool schema: short, but the question and the call hold distractor digits;
- ``full``: the chapter's conversation as the agent loop renders it, tool schema included (234 tokens);
- ``drill``: the question, then the tool response, no system prompt and no call (~35 tokens, with
  distractors). Its rows also report ``full``: does what it learned carry over to the real context?

Evaluation: greedy, on 64 fresh seeded pairs (numbers) drawn the same way as the training ones
(not :meth:`MulTask.held_out`; a 0.5 M-parameter model cannot memorise 81,000 pairs). Batch 32,
AdamW, constant lr, grad clip 1.0, evaluation every 100 steps. ``--record NAME`` stores the curve in
``benchmarks/results/probe_07_copy_context.json``.
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
RESULTS = ROOT / "benchmarks" / "results" / "probe_07_copy_context.json"
CONTEXTS = ("short", "long", "vlong", "notools", "full", "drill")
FILLER = "You are a helpful assistant. "
FILLER_REPEATS = {"long": 8, "vlong": 34}
CONVERSATIONS = ("notools", "full", "drill")


def _chat_ids(tok, messages: list[dict], with_tools: bool, gen: bool = False) -> list[int]:
    from verlings.agent_rl import task

    out = tok.apply_chat_template(
        messages, tools=[task.TOOL_SCHEMA] if with_tools else None, tokenize=True, add_generation_prompt=gen
    )
    return list(out["input_ids"] if hasattr(out, "keys") else out)


def _encode(tok, text: str) -> list[int]:
    return tok.encode(text, add_special_tokens=False)


def example(tok, context: str, rng: random.Random) -> tuple[list[int], list[int], str]:
    """(prompt ids, answer ids ending in ``<|im_end|>``, the answer's text) for one drawn number."""
    from verlings.agent_rl import task

    if context in CONVERSATIONS:
        a, b = rng.randint(10, 999), rng.randint(10, 99)
        answer = str(a * b)
        if context == "drill":
            head = (f"What is {a} * {b}?<|im_end|>\n<|im_start|>user\n<tool_response>\n{answer}\n"
                    "</tool_response><|im_end|>\n<|im_start|>assistant\n")
            return _encode(tok, head), _encode(tok, f"{answer}<|im_end|>"), answer
        conv = task.conversation(a, b)
        head = _chat_ids(tok, conv[:3], with_tools=context == "full", gen=True)
        whole = _chat_ids(tok, conv, with_tools=context == "full")
        return head, whole[len(head) : -1], answer  # the answer and <|im_end|>, not the last newline
    answer = str(rng.randint(100, 99999))
    filler = FILLER * FILLER_REPEATS.get(context, 0)
    head = f"{filler}<tool_response>\n{answer}\n</tool_response><|im_end|>\n<|im_start|>assistant\n"
    return _encode(tok, head), _encode(tok, f"{answer}<|im_end|>"), answer


def batch(tok, context: str, rng: random.Random, size: int):
    """Right-padded ids, the loss mask (1 on the answer's tokens only) and the attention mask."""
    import torch

    rows = [example(tok, context, rng)[:2] for _ in range(size)]
    width = max(len(h) + len(t) for h, t in rows)
    ids = torch.full((size, width), tok.pad_token_id)
    loss_mask = torch.zeros(size, width)
    attention = torch.zeros(size, width, dtype=torch.long)
    for k, (head, tail) in enumerate(rows):
        ids[k, : len(head) + len(tail)] = torch.tensor(head + tail)
        loss_mask[k, len(head) : len(head) + len(tail)] = 1
        attention[k, : len(head) + len(tail)] = 1
    return ids, loss_mask, attention


def copy_rate(model, tok, context: str, n: int = 64) -> float:
    """Share of ``n`` fresh numbers (seeded) the model repeats exactly, greedily."""
    import torch

    rng, hits = random.Random(99), 0
    end = tok.convert_tokens_to_ids("<|im_end|>")
    model.eval()
    with torch.no_grad():
        for _ in range(n):
            head, tail, answer = example(tok, context, rng)
            out = model.generate(torch.tensor([head]), max_new_tokens=len(tail), do_sample=False,
                                 pad_token_id=tok.pad_token_id, eos_token_id=end)
            hits += tok.decode(out[0, len(head) :], skip_special_tokens=True).strip() == answer
    model.train()
    return hits / n


def train(args: argparse.Namespace, log=print) -> dict:
    import torch

    from verlings.capstone.model import build_model

    torch.set_num_threads(1)
    model, tok = build_model()
    model.config._attn_implementation = "sdpa"
    rng = random.Random(args.seed)
    torch.manual_seed(args.seed)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)
    curve, start = [], time.monotonic()
    for step in range(1, args.steps + 1):
        ids, loss_mask, attention = batch(tok, args.context, rng, args.batch_size)
        logits = model(input_ids=ids, attention_mask=attention).logits
        nll = torch.nn.functional.cross_entropy(logits[:, :-1].flatten(0, 1), ids[:, 1:].flatten(), reduction="none")
        loss = (nll * loss_mask[:, 1:].flatten()).sum() / loss_mask[:, 1:].sum()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % args.eval_every == 0:
            point = {"step": step, "loss": round(loss.item(), 3), "copy": copy_rate(model, tok, args.context)}
            if args.context == "drill":
                point["copy_in_full_context"] = copy_rate(model, tok, "full", n=32)
            point["s"] = round(time.monotonic() - start)
            curve.append(point)
            log(json.dumps(point))
    return {"curve": curve, "train_s": round(time.monotonic() - start, 1)}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--context", choices=CONTEXTS, default="short")
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--eval-every", type=int, default=100)
    p.add_argument("--record", default=None, help="store the result under this name in " + RESULTS.name)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    sys.path.insert(0, str(ROOT))
    load0 = os.getloadavg()[0]
    from benchmarks._results import finish

    result = {
        "setting": {k: v for k, v in vars(args).items() if k != "record"},
        **train(args),
    }
    finish(result, load0, RESULTS, args.record)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
