"""Is this trajectory safe to train on? Checks for the bugs that silently ruin agent RL.

Lesson: exercises/05/README.md §4 (中文: README.zh-CN.md §4).

A trajectory (verl's ``AgentLoopOutput``) is four parallel facts about each response token:
its id, whether the model sampled it (``response_mask``), and the log-prob the engine gave
it. PPO/GRPO multiply them position by position. Nothing crashes when they disagree — the
loss is simply computed on the wrong tokens. ``check_trajectory`` finds such trajectories
before they reach the trainer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# Tokens only the chat template or a tool writes: a model turn stops at <|im_end|> before them.
NON_MODEL_TOKENS = ("<|im_start|>", "<tool_response>", "</tool_response>")
TAGS = ("length", "mask", "logprob", "prompt", "drift")


def check_trajectory(
    output: Any, tokenizer: Any, messages: Sequence[dict], tools: list[dict] | None = None
) -> list[str]:
    """Human-readable problems of one trajectory; ``[]`` when it is consistent.

    Args:
        output: anything with ``prompt_ids``, ``response_ids``, ``response_mask`` and
            ``response_logprobs`` (``None`` allowed) lists — e.g. verl's ``AgentLoopOutput``.
        tokenizer: the tokenizer the trajectory was made with.
        messages: the chat the prompt was made from; ``tools``: the tool schemas it was templated
            with (OpenAI dicts) or ``None``.

    Returns:
        One string per problem, each starting with its tag and a colon (``"length: ..."``), then
        what is wrong and where (positions, a bit of decoded text). Positions count in
        ``response_ids`` (``prompt``: in ``prompt_ids``) and are never negative: a ``mask``
        message names the first and last offending position of its run, a ``drift`` message the
        run's first and last position, a ``prompt`` message the first position that differs. The tags:

        * ``length`` — ``response_mask`` or ``response_logprobs`` (when not ``None``) does not have
          one entry per response id (one message per list). The other checks then look only at
          the first ``n`` positions, ``n`` = the shortest length.
        * ``mask`` — a mask value other than 0/1; or, in a *model run* (a maximal run of
          consecutive positions with mask 1), a token of ``NON_MODEL_TOKENS`` or any token after
          an ``eos_token_id`` that is not the run's last token: tool or template tokens marked as
          the model's (at most one message per run).
        * ``logprob`` — a non-zero log-prob where mask is 0; a log-prob that is not finite or is
          ``> 0`` where mask is 1.
        * ``prompt`` — ``prompt_ids`` differ from the chat template of ``messages`` with ``tools``
          and the generation prompt, tokenized.
        * ``drift`` — for a model run ``ids``: ``tokenizer.encode(tokenizer.decode(ids),
          add_special_tokens=False) != ids`` (one message per run): the ids are not what
          re-tokenising the text gives, so a text-based pipeline would train on other tokens
          than the model sampled.

    Example:
        >>> check_trajectory(output_with_logprobs_one_short, tokenizer, messages, tools)
        ['length: response_logprobs has 52 entries for 53 response_ids']
    """
    # TODO: your implementation (stuck? `python grader.py hint 05.consistency`).
    raise NotImplementedError("implement check_trajectory — see exercises/05/README.md §4.1")
