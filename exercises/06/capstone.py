"""Capstone: plug your own code into a real verl GRPO training run.

verl is built to be extended without editing it. Three plug-in points are enough to train
with *your* advantage estimator and *your* reward:

* ``register_adv_est(name)`` (``verl/trainer/ppo/core_algos.py``) adds an estimator to verl's
  registry; ``algorithm.adv_estimator=<name>`` selects it. verl then calls it with keywords
  only — ``token_level_rewards``, ``response_mask``, ``config`` (the ``algorithm`` config)
  and ``index`` (the group ids), plus ``reward_baselines`` when the batch has them.
* ``reward.custom_reward_function.path=<file>`` and ``.name=<function>`` make verl's reward
  workers load a function from a file and call it once per answer with
  ``compute_score(data_source=..., solution_str=..., ground_truth=..., extra_info=...)``.
* Hydra overrides (``key=value`` strings) on ``python -m verl.trainer.main_ppo`` wire both in.

Your chapter-03 estimator and chapter-04 reward pieces are the ones that run: reach them
with ``chapter_module("03", "advantages")`` and ``chapter_module("04", "rule_rewards")``, which
import them from the folder being graded (``exercises/`` for you).

The toy task (``verlings/capstone/data.py``): prompts like ``Which is larger, 7 or 5? Answer
with digits only.``; the ground truth is ``"7"``. A random model never answers right — but it
can learn what an answer looks like (digits, then stop), and the reward below pays for that shape.
Lesson: exercises/06/README.md.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import torch

from verlings.target import chapter_module  # your own chapters: chapter_module("03", "advantages")

ESTIMATOR_NAME = "verlings_grpo"  # the name your estimator is registered under in verl
ANSWER = r"-?\d+"  # what a well-formed answer is: an optional minus, then digits
MAX_CHARS = 24  # the length ramp of compute_score (characters of the stripped answer)
BUFFER_CHARS = 16
WEIGHTS = {"correct": 1.0, "format": 0.5, "digits": 1.0, "length": 0.5}


def grpo_estimator(
    token_level_rewards: torch.Tensor,
    response_mask: torch.Tensor,
    index: np.ndarray,
    config: Any = None,
    **kwargs: Any,
) -> tuple[torch.Tensor, torch.Tensor]:
    """GRPO advantages for verl's trainer, computed by *your* chapter-03 code.

    verl calls a registered estimator as
    ``fn(token_level_rewards=..., response_mask=..., config=algorithm_config, index=uids)``
    (``verl/trainer/ppo/ray_trainer.py::compute_advantage``), sometimes with more keywords.

    Args:
        token_level_rewards: ``(bs, response_length)`` float; the reward sits on the last token.
        response_mask: ``(bs, response_length)``, 1 on answer tokens.
        index: ``(bs,)`` numpy array of group ids (answers to the same prompt share one).
        config: verl's ``AlgoConfig`` (or ``None``); ``config.get("norm_adv_by_std_in_grpo", True)``
            says GRPO (divide by the group's std) or Dr.GRPO (don't).
        **kwargs: anything else verl passes (ignore it).

    Returns:
        ``(advantages, returns)``, both ``(bs, response_length)`` — exactly what chapter 03's
        ``compute_grpo_outcome_advantage`` returns for these inputs and that flag.

    Example: rewards 1.0 and 0.0 in one group of two → advantages ≈ +0.7071 and -0.7071
    on every answer token (std is the unbiased one, √0.5).
    """
    # TODO: your implementation (stuck? `python grader.py hint 06.estimator`).
    raise NotImplementedError("implement grpo_estimator — see exercises/06/README.md §2.1")


def register_estimator(name: str = ESTIMATOR_NAME) -> Any:
    """Register :func:`grpo_estimator` in verl under ``name``; returns what was registered.

    Use verl's decorator ``verl.trainer.ppo.core_algos.register_adv_est(name)`` (import it
    inside this function: importing verl costs seconds). Calling this twice must not fail:
    verl accepts the *same* function object under a name again and refuses a different one.

    Example: after ``register_estimator("my_grpo")``,
    ``core_algos.get_adv_estimator_fn("my_grpo") is grpo_estimator``.
    """
    # TODO: your implementation (stuck? `python grader.py hint 06.estimator`).
    raise NotImplementedError("implement register_estimator — see exercises/06/README.md §2.1")


def compute_score(data_source: str, solution_str: str, ground_truth: str, extra_info: dict | None = None) -> dict:
    """The toy task's reward, built from *your* chapter-04 ``rule_rewards`` functions.

    On the solution text with surrounding whitespace stripped, four components, scored with
    your chapter-04 module (``chapter_module("04", "rule_rewards")``, never an import by path) and
    weighted by its ``combine`` with :data:`WEIGHTS`:

    * ``correct``: 1.0 when the *last* match of ``ANSWER`` in the text is ``math_equal`` to
      ``ground_truth``, else 0.0 (no number → 0.0);
    * ``format``: your ``format_reward`` of the text against ``ANSWER`` — the whole answer is
      one number;
    * ``digits``: the share of the text's characters that are digits (0.0 for empty text) —
      the dense term that lets a random model improve before it is ever right;
    * ``length``: your ``overlong_penalty`` with the text's length capped at :data:`MAX_CHARS`,
      limit :data:`MAX_CHARS`, buffer :data:`BUFFER_CHARS` and factor 1.0 — free up to 8
      characters, then down to -1.0 at 24 and beyond.

    Returns:
        ``{"score": weighted total, "correct": ..., "format": ..., "digits": ..., "length": ...,
        "acc": correct}`` — what ``combine`` returns, plus ``acc`` (a copy of ``correct``, not
        weighted): verl uses ``score`` as the reward and logs every other key; its validation
        reports a key named ``acc`` as the headline accuracy (``val-core/<data_source>/acc/mean@1``).

    Example: ``compute_score("verlings/arith", " 42", "42")`` → correct 1, format 1, digits 1.0,
    length 0.0 → score 1 + 0.5 + 1 + 0 = 2.5, acc 1.0.
    """
    # TODO: your implementation (stuck? `python grader.py hint 06.reward`).
    raise NotImplementedError("implement compute_score — see exercises/06/README.md §2.2")


def plug_in_overrides(capstone_file: str, estimator_name: str = ESTIMATOR_NAME) -> list[str]:
    """The Hydra overrides that make ``python -m verl.trainer.main_ppo`` use your code.

    Three ``key=value`` strings: select ``estimator_name`` as the advantage estimator, and
    point verl's custom reward function at ``compute_score`` in ``capstone_file``. Keys are
    verl 0.9.1's (``verl/trainer/config/ppo_trainer.yaml``; the reward settings live under
    ``reward:``). The launcher appends them after its own, so yours win.

    Example: ``plug_in_overrides("/x/capstone.py")`` → three strings, the first
    ``"algorithm.adv_estimator=verlings_grpo"``.
    """
    # TODO: your implementation (stuck? `python grader.py hint 06.overrides`).
    raise NotImplementedError("implement plug_in_overrides — see exercises/06/README.md §2.3")


def sft_loss_mask(
    messages: list[dict], tokenizer: Any, system_prompt_len: int, generation_prompt_len: int
) -> tuple[list[int], list[int]]:
    """One conversation as verl's SFT trainer sees it: its token ids and its loss mask.

    verl's ``MultiTurnSFTDataset`` (``verl/utils/dataset/multiturn_sft_dataset.py``) tokenizes
    **each message on its own** (the chat template of a one-message conversation, tokenized,
    without a generation prompt: its ``input_ids``) and concatenates the pieces:

    * the chat template puts its default system prompt before *every* call, so every message
      after the first (unless it is itself a ``system`` message) drops its first
      ``system_prompt_len`` tokens;
    * the loss mask is 1 on an ``assistant`` message's tokens — its answer, its end-of-turn token
      and what follows it — except the first ``generation_prompt_len`` tokens (the
      ``<|im_start|>assistant\\n`` header, which the prompt supplies at generation time);
    * every other message (system, user, tool) is 0: the model is not trained to write prompts.

    Args:
        messages: ``[{"role": ..., "content": ...}, ...]`` (one row's ``messages``).
        tokenizer: a Hugging Face tokenizer with a chat template (the course tokenizer in tests).
        system_prompt_len, generation_prompt_len: the lengths verl gets from
            ``verl.utils.tokenizer.chat_template.extract_system_prompt_and_generation(tokenizer)``.

    Returns:
        ``(input_ids, loss_mask)``: two lists of ints of the same length — exactly what verl's
        dataset returns with ``pad_mode=no_padding``.

    Example (course tokenizer): user "What is 1 + 2?", assistant "3" → the mask is 1 on the three
    tokens ``3``, ``<|im_end|>``, ``\\n`` and 0 everywhere else.
    """
    # TODO: tokenize each message, drop the repeated system prompt, build the mask per role.
    raise NotImplementedError("implement sft_loss_mask — see exercises/06/README.md §5.2")


def majority_vote(preds: list[str], values: list[float]) -> float:
    """maj@n for one prompt, as verl's validation computes it (``metric_utils.calc_maj_val``).

    ``preds[i]`` is the i-th sampled answer (e.g. the extracted number), ``values[i]`` its score
    (e.g. ``acc``). The majority answer is the most frequent pred; on a tie, the one that
    appears **first** in ``preds`` wins. Return the value of that answer's **first** occurrence.

    Example: preds ``["3", "4", "4", "3"]``, values ``[1, 0, 0.5, 1]`` → "3" and "4" tie with two
    votes, "3" came first → 1.0.
    """
    # TODO: count the votes in order of first appearance; keep each answer's first value.
    raise NotImplementedError("implement majority_vote — see exercises/06/README.md §6.3")
