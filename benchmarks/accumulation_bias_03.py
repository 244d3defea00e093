"""How far the gradient-accumulation bug moves the gradient (chapter 03 §3.5), measured.

    python benchmarks/accumulation_bias_03.py --seeds 10

For each seed: a mini-batch of 64 responses whose lengths are drawn like real rollouts (log-normal,
median ~100 tokens, capped at 256), a policy-gradient-like per-token loss ``-A_i · log σ(x_t · w)``
(features with mean 0.5, so every token pushes w the same way, scaled by its advantage), and the
reference ``microbatch_gradients`` (solutions/03) with verl's aggregation (solutions/03/losses.py ≡
verl 0.9.1) split into ranks × micro-batches. Two kinds of advantage: ``iid`` (±1 at random,
unrelated to length) and ``length`` (+1 for responses shorter than the median, -1 for longer ones:
in RL, long answers are more often wrong). It prints, per target, mode and split, the
relative error ``|g_local - g_full| / |g_full|`` of the local-count gradient over the seeds (median,
10th and 90th percentile) and checks that the global-count gradient equals the full-batch one every time.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from verlings.paths import SOLUTIONS
from verlings.target import load_module

losses = load_module("03", "losses", root=SOLUTIONS)
accumulation = load_module("03", "accumulation", root=SOLUTIONS)

MODES = ("token-mean", "seq-mean-token-mean")
SPLITS = ((1, 4), (1, 16), (4, 4))  # (dp_size, micro-batches per rank)
TARGETS = ("iid", "length")


def _batch(seed: int, target: str, bs: int = 64, max_len: int = 256, d: int = 8) -> tuple[dict, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    lengths = torch.exp(torch.randn(bs, generator=g) * 0.8 + np.log(100.0)).round().clamp(1, max_len).long()
    mask = (torch.arange(max_len)[None, :] < lengths[:, None]).long()
    if target == "length":
        advantages = torch.where(lengths < lengths.median(), 1.0, -1.0)
    else:
        advantages = torch.randint(0, 2, (bs,), generator=g).float() * 2 - 1
    x = 0.5 + torch.randn(bs, max_len, d, generator=g)
    batch = {"x": x, "advantages": advantages[:, None].expand(bs, max_len), "response_mask": mask}
    return batch, torch.randn(d, generator=g)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()
    start = time.perf_counter()
    errors: dict[tuple, list[float]] = {}
    for seed, target in ((seed, target) for seed in range(args.seeds) for target in TARGETS):
        batch, w0 = _batch(seed, target)
        bs = batch["response_mask"].shape[0]
        for mode in MODES:
            w = w0.clone().requires_grad_(True)

            def loss_fn(micro_batch, mode=mode, w=w, **counts):
                loss_mat = -micro_batch["advantages"] * torch.nn.functional.logsigmoid(micro_batch["x"] @ w)
                return losses.agg_loss(loss_mat, micro_batch["response_mask"], mode, **counts)

            total = int(batch["response_mask"].sum())
            (full,) = torch.autograd.grad(loss_fn(batch, batch_num_tokens=total, global_batch_size=bs), [w])
            for dp_size, n_micro in SPLITS:
                (good,) = accumulation.microbatch_gradients(loss_fn, batch, [w], n_micro, dp_size=dp_size)
                assert torch.allclose(good, full, rtol=1e-4, atol=1e-6), (seed, mode, dp_size, n_micro)
                (bad,) = accumulation.microbatch_gradients(loss_fn, batch, [w], n_micro, dp_size, global_counts=False)
                errors.setdefault((target, mode, dp_size, n_micro), []).append(float((bad - full).norm() / full.norm()))
    print(f"relative gradient error of local counts, {args.seeds} seeds, 64 responses (lengths log-normal, "
          f"median 100, max 256); global counts matched the full batch in every case")
    print(f"{'target':<8}{'mode':<22}{'ranks x micro':>14}{'median':>9}{'p10':>8}{'p90':>8}")
    for (target, mode, dp_size, n_micro), errs in errors.items():
        p10, p50, p90 = np.percentile(errs, [10, 50, 90])
        print(f"{target:<8}{mode:<22}{f'{dp_size} x {n_micro}':>14}{p50:>9.1%}{p10:>8.1%}{p90:>8.1%}")
    print(f"wall time {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
