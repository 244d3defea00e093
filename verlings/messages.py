"""The short lines of failure messages, in both languages, and the catalogue of named causes.

A graded test says *what* differs and where (``why=``, neutral) and names a *cause*
(``cause=KEY``) only when its inputs isolate that cause: a reshuffled batch that
differs only in order isolates grouping by position; a golden batch with many
groups does not isolate the std's divisor. ``verlings.dev.mutants.caught`` holds
every known-wrong variant to that rule: a failing test that names a cause must
name the mistake the variant declares.

``translate`` turns an English line into Chinese for ``--lang zh``; numbers,
expressions and ``expected:``/``seen:`` values stay as they are.
"""

from __future__ import annotations

import re

from verlings.i18n import say

CAUSE = {"en": "likely cause: ", "zh": "可能的原因："}  # the prefix of a line that names a cause
CAUSE_EN, CAUSE_ZH = CAUSE["en"], CAUSE["zh"]


# key -> the mistake, said once in each language ({"en": ..., "zh": ...}, as everywhere in the
# course). Keys are what a Mutant's ``mistake`` declares.
CAUSES: dict[str, dict[str, str]] = {
    "masked_positions_leak": {
        "en": "values on masked positions leak into the result (multiply by the mask, or no mask at all?)",
        "zh": "被掩码位置上的值混进了结果（只是乘以掩码，或者根本没用掩码？）",
    },
    "grpo_population_std": {
        "en": "population std (divides by n); GRPO uses the unbiased std (torch.std divides by n - 1)",
        "zh": "用了总体标准差（除以 n）；GRPO 用无偏标准差（torch.std 除以 n - 1）",
    },
    "grpo_groups_by_position": {
        "en": "groups taken by position in the batch; a group is every response with the same uid, anywhere",
        "zh": "按批次中的位置分组了；一组是 uid 相同的所有响应，不论在哪里",
    },
    "rloo_groups_by_position": {
        "en": "RLOO groups taken by position in the batch; the others of a response are those with its uid, anywhere",
        "zh": "RLOO 按批次中的位置分组了；一个响应的“其他响应”是与它 uid 相同的那些，不论在哪里",
    },
    "grpo_fixed_epsilon": {
        "en": "a constant epsilon instead of the `epsilon` argument",
        "zh": "用了常数 epsilon，而不是参数 `epsilon`",
    },
    "grpo_ignores_norm_flag": {
        "en": "norm_adv_by_std_in_grpo=False still divides by the std",
        "zh": "norm_adv_by_std_in_grpo=False 时仍然除以了标准差",
    },
    "uid_type": {
        "en": "uids compared by type or value instead of equality (int uids must group like str uids)",
        "zh": "按类型或数值而不是按相等来比较 uid（int 类型的 uid 必须和 str 一样分组）",
    },
}


def cause_line(key: str) -> str:
    """The message line that names a cause (English; ``translate`` gives the Chinese)."""
    if key not in CAUSES:
        raise KeyError(f"unknown cause {key!r}; add it to verlings.messages.CAUSES")
    return CAUSE_EN + CAUSES[key]["en"]


def named_causes(message: str) -> set[str]:
    """Keys of the catalogue causes that a failure message names."""
    return {k for k, c in CAUSES.items() if CAUSE_EN + c["en"] in message or CAUSE_ZH + say(c, "zh") in message}


# Sentence patterns of verlings.testing; the captured parts are kept verbatim.
PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(
            r"^(?P<what>.*): (?P<bad>\d+) of (?P<n>\d+) values differ "
            r"\(max \|Δ\| (?P<d>\S+)(?: at (?P<at>\[.*\]))?\)$"
        ),
        "{what}：{n} 个值中有 {bad} 个不同（最大 |Δ| {d}{at_zh}）",
    ),
    (re.compile(r"^(?P<what>.*): shape (?P<s>\(.*\)) but expected (?P<e>\(.*\))$"), "{what}：形状为 {s}，应为 {e}"),
    (re.compile(r"^inputs of row (?P<row>\d+):$"), "第 {row} 行的输入："),
]


def translate(line: str, lang: str) -> str:
    """``line`` in ``lang``: catalogue causes, known why-lines and message patterns; the rest as is."""
    if lang != "zh":
        return line
    indent = line[: len(line) - len(line.lstrip())]
    body = line.strip()
    if body.startswith(CAUSE_EN):
        en = body[len(CAUSE_EN) :]
        for c in CAUSES.values():
            if c["en"] == en:
                return indent + CAUSE_ZH + say(c, lang)
    from verlings.messages_zh import WHY_ZH

    if body in WHY_ZH:
        return indent + WHY_ZH[body]
    for pattern, template in PATTERNS:
        m = pattern.match(body)
        if m:
            parts = {k: v or "" for k, v in m.groupdict().items()}
            parts["at_zh"] = f"，位于 {parts['at']}" if parts.get("at") else ""
            return indent + template.format(**parts)
    return line
