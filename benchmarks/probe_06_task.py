"""A plain-PyTorch probe of the capstone's model and task (not verl): SFT, then GRPO, in seconds a step.

It exists to choose the task and recipe before paying for verl runs, and it is what ch06 §6.1's
"probe" figures come from. Same tiny Qwen2 (``verlings.capstone.model``), same course tokenizer
and chat template, same prompts and train/held-out split (``verlings.capstone.data.Task``)
SFT
puts the loss on the answer and its stop token
GRPO samples ``--n`` answers per prompt at
temperature 1, rewards exact match (0/1), normalises per group and takes one on-policy step.
Prints JSON lines: greedy accuracy on the held-out and on 64 training pairs, the mean sampled
accuracy and pass@8 on the held-out pairs::

    python benchmarks/probe_06_task.py --high 9 --held 32 --sft-steps 120 --grpo-steps 40 --grpo-lr 3e-4 --seed 2
    python benchmarks/probe_06_task.py --high 19 --held 64 --sft-steps 400      # the former task
    python benchmarks/probe_06_task.py --op max --held 32 --high 9 --sft-steps 40 --grpo-steps 30 --grpo-lr 1e-3
    python benchmarks/probe_06_task.py --op max --held 32 --high 9 --sft-steps 0 --grpo-steps 30 --grpo-lr 1e-3 \
        --init .verlings/sft_curve/checkpoints/global_step_40/huggingface   # from verl's warm start

Single-threaded (``torch.set_num_threads(1)``)
seconds per step depend on the machine's load.
"""

import argparse
import json
import random
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from verlings.capstone import data as D
from verlings.capstone.model import ARCH, build_model

p = argparse.ArgumentParser()
p.add_argument("--sft-steps", type=int, default=120)
p.add_argument("--sft-lr", type=float, default=3e-3)
p.add_argument("--bs", type=int, default=32)
p.add_argument("--grpo-steps", type=int, default=0)
p.add_argument("--grpo-lr", type=float, default=1e-4)
p.add_argument("--prompts", type=int, default=8)
p.add_argument("--n", type=int, default=8)
p.add_argument("--seed", type=int, default=1)
p.add_argument("--low", type=int, default=0)
p.add_argument("--high", type=int, default=19)
p.add_argument("--held", type=int, default=64)
p.add_argument("--op", default="add", choices=sorted(D.OPS), help="the question (verlings.capstone.data.OPS)")
p.add_argument("--split", default="random", choices=("random", "commutative"),
               help="how held-out pairs are chosen (Task.split)")
p.add_argument("--hidden", type=int, default=128)
p.add_argument("--layers", type=int, default=2)
p.add_argument("--eval-every", type=int, default=40)
p.add_argument("--wd", type=float, default=0.0)
p.add_argument("--sft-bf16", action="store_true", help="SFT forward/backward under bf16 autocast, as verl's "
               "SFT engine computes (engine.dtype=bfloat16; fp32 master weights)")
p.add_argument("--init", default=None, help="start from this Hugging Face folder (e.g. verl's SFT warm start); "
               "use with --sft-steps 0")
a = p.parse_args()
torch.set_num_threads(1)

task = D.Task(low=a.low, high=a.high, held_out=a.held, op=a.op, split=a.split)
train_pairs, held = task.pairs()
if a.hidden != 128 or a.layers != 2:
    ARCH.update(
        hidden_size=a.hidden, intermediate_size=2 * a.hidden, num_hidden_layers=a.layers, head_dim=a.hidden // 2
    )
model, tok = build_model()
if a.init:  # e.g. .verlings/cache/capstone/sft-<key>/hf: GRPO here from the very weights verl starts from
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(a.init, dtype=torch.float32)
eos = tok.eos_token_id
nl = tok.encode("\n", add_special_tokens=False)


def prompt_ids(a_, b_):
    return tok.apply_chat_template(
        [{"role": "user", "content": task.question(a_, b_)}],
        add_generation_prompt=True,
        tokenize=True,
        return_dict=True,
    )["input_ids"]


cache = {}


def P(x, y):
    if (x, y) not in cache:
        cache[(x, y)] = list(prompt_ids(x, y))
    return cache[(x, y)]


def sft_batch(pairs):
    seqs, masks = [], []
    for x, y in pairs:
        pr = P(x, y)
        ans = [*tok.encode(task.answer(x, y), add_special_tokens=False), eos, *nl]
        seqs.append(pr + ans)
        masks.append([0] * len(pr) + [1] * len(ans))
    L = max(map(len, seqs))
    ids = torch.full((len(seqs), L), tok.pad_token_id)
    m = torch.zeros(len(seqs), L)
    att = torch.zeros(len(seqs), L, dtype=torch.long)
    for i, (s, mm) in enumerate(zip(seqs, masks)):
        ids[i, : len(s)] = torch.tensor(s)
        m[i, : len(s)] = torch.tensor(mm, dtype=torch.float)
        att[i, : len(s)] = 1
    return ids, m, att


@torch.no_grad()
def generate(pairs, greedy=True, n=1, max_new=5, temp=1.0):
    prs = [P(x, y) for x, y in pairs for _ in range(n)]
    L = max(map(len, prs))
    ids = torch.full((len(prs), L), tok.pad_token_id)
    att = torch.zeros(len(prs), L, dtype=torch.long)
    for i, s in enumerate(prs):
        ids[i, L - len(s) :] = torch.tensor(s)
        att[i, L - len(s) :] = 1
    out = model.generate(
        input_ids=ids,
        attention_mask=att,
        max_new_tokens=max_new,
        do_sample=not greedy,
        temperature=temp if not greedy else None,
        top_k=0 if not greedy else None,
        eos_token_id=eos,
        pad_token_id=tok.pad_token_id,
    )
    return ids, att, out[:, L:]


def decode(resp):
    return [tok.decode(r, skip_special_tokens=True).strip() for r in resp]


def acc(pairs, **kw):
    _, _, resp = generate(pairs, **kw)
    texts = decode(resp)
    return sum(t == task.answer(x, y) for t, (x, y) in zip(texts, pairs)) / len(pairs)


def report(tag, step):
    model.eval()
    tr = random.Random(0).sample(train_pairs, 64)
    r = {"tag": tag, "step": step, "held": acc(held), "train": acc(tr)}
    _, _, resp = generate(held, greedy=False, n=8)
    texts = decode(resp)
    ok = [t == task.answer(x, y) for t, (x, y) in zip(texts, [p for p in held for _ in range(8)])]
    r["held_sample_mean"] = sum(ok) / len(ok)
    r["held_pass8"] = sum(any(ok[i * 8 : (i + 1) * 8]) for i in range(len(held))) / len(held)
    r["t"] = round(time.time() - T0, 1)
    print(json.dumps(r), flush=True)
    model.train()
    return r


T0 = time.time()
torch.manual_seed(a.seed)
rng = random.Random(a.seed)
opt = torch.optim.AdamW(model.parameters(), lr=a.sft_lr, weight_decay=a.wd)
model.train()
for step in range(1, a.sft_steps + 1):
    ids, m, att = sft_batch([rng.choice(train_pairs) for _ in range(a.bs)])
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.sft_bf16):
        logits = model(input_ids=ids, attention_mask=att).logits[:, :-1].float()
    lp = -F.cross_entropy(logits.transpose(1, 2), ids[:, 1:], reduction="none")
    loss = -(lp * m[:, 1:]).sum() / m[:, 1:].sum()
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    if step % a.eval_every == 0 or step == a.sft_steps:
        print(f"sft step {step} loss {loss.item():.3f}", flush=True)
        report("sft", step)
if a.sft_steps == 0:
    report("start", 0)

opt = torch.optim.AdamW(model.parameters(), lr=a.grpo_lr, weight_decay=0.0)
for step in range(1, a.grpo_steps + 1):
    pairs = [rng.choice(train_pairs) for _ in range(a.prompts)]
    model.eval()
    ids, att, resp = generate(pairs, greedy=False, n=a.n, max_new=6)
    texts = decode(resp)
    asked = [p for p in pairs for _ in range(a.n)]
    rew = torch.tensor([float(t == task.answer(x, y)) for t, (x, y) in zip(texts, asked)])
    g = rew.view(a.prompts, a.n)
    adv = ((g - g.mean(1, keepdim=True)) / (g.std(1, keepdim=True) + 1e-6)).view(-1)
    model.train()
    full = torch.cat([ids, resp], 1)
    rmask = torch.zeros_like(resp, dtype=torch.float)
    for i in range(resp.shape[0]):
        for j in range(resp.shape[1]):
            rmask[i, j] = 1
            if resp[i, j] == eos:
                break
    fatt = torch.cat([att, rmask.long()], 1)
    logits = model(input_ids=full, attention_mask=fatt).logits[:, ids.shape[1] - 1 : -1]
    lp = -F.cross_entropy(logits.transpose(1, 2), resp, reduction="none")
    loss = -(lp * adv[:, None] * rmask).sum() / rmask.sum()
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    if step % 5 == 0:
        print(f"grpo step {step} reward {rew.mean():.3f}", flush=True)
    if step % 10 == 0 or step == a.grpo_steps:
        report("grpo", step)
