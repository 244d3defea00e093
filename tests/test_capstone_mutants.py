"""Known-wrong variants of exercises/06/capstone.py: each must fail a fast graded test of its exercise.

The capstone reaches chapters 03 and 04 through the target, so a mutant's target holds the
reference solutions of 03, 04 and 06, with the mutant's code appended to 06/capstone.py.
"""

import shutil
import tempfile
import textwrap
from pathlib import Path

import pytest

from verlings.dev.mutants import Mutant, graded_failures
from verlings.paths import SOLUTIONS

_REWARD = '''
def compute_score(data_source, solution_str, ground_truth, extra_info=None):
    rules = chapter_module("04", "rule_rewards")
    text = {text}
    numbers = re.findall(ANSWER, text)
    components = {{
        "correct": 1.0 if numbers and rules.math_equal({pick}, ground_truth) else 0.0,
        "format": {format},
        "digits": {digits},
        "length": {length},
    }}
    return {ret}
'''
_REWARD_OK = {
    "text": "solution_str.strip()",
    "pick": "numbers[-1]",
    "format": "rules.format_reward(text, ANSWER)",
    "digits": "sum(c.isdigit() for c in text) / len(text) if text else 0.0",
    "length": "rules.overlong_penalty(min(len(text), MAX_CHARS), MAX_CHARS, BUFFER_CHARS, 1.0)",
    "ret": "{**rules.combine(components, WEIGHTS), 'acc': components['correct']}",
}


def _reward(**changes: str) -> str:
    return _REWARD.format(**(_REWARD_OK | changes))


MUTANTS = [
    # --- 06.estimator
    Mutant("estimator_ignores_config", "06.estimator", "capstone", '''
def grpo_estimator(token_level_rewards, response_mask, index, config=None, **kwargs):
    return chapter_module("03", "advantages").compute_grpo_outcome_advantage(
        token_level_rewards=token_level_rewards, response_mask=response_mask, index=index)
'''),
    Mutant("estimator_uses_verls_grpo", "06.estimator", "capstone", '''
def grpo_estimator(token_level_rewards, response_mask, index, config=None, **kwargs):
    from verl.trainer.ppo.core_algos import compute_grpo_outcome_advantage
    norm = True if config is None else config.get("norm_adv_by_std_in_grpo", True)
    return compute_grpo_outcome_advantage(token_level_rewards=token_level_rewards, response_mask=response_mask,
                                          index=index, norm_adv_by_std_in_grpo=norm)
'''),
    Mutant("estimator_without_kwargs", "06.estimator", "capstone", '''
_solution_estimator = grpo_estimator
def grpo_estimator(token_level_rewards, response_mask, index, config=None):
    return _solution_estimator(token_level_rewards, response_mask, index, config)
'''),
    Mutant("estimator_config_none_crashes", "06.estimator", "capstone", '''
_solution_estimator = grpo_estimator
def grpo_estimator(token_level_rewards, response_mask, index, config=None, **kwargs):
    config.get("norm_adv_by_std_in_grpo", True)
    return _solution_estimator(token_level_rewards, response_mask, index, config)
'''),
    Mutant("register_a_new_wrapper_each_time", "06.estimator", "capstone", '''
def register_estimator(name=ESTIMATOR_NAME):
    from verl.trainer.ppo.core_algos import register_adv_est
    return register_adv_est(name)(lambda **kw: grpo_estimator(**kw))
'''),
    Mutant("register_under_a_fixed_name", "06.estimator", "capstone", '''
def register_estimator(name=ESTIMATOR_NAME):
    from verl.trainer.ppo.core_algos import register_adv_est
    return register_adv_est(ESTIMATOR_NAME)(grpo_estimator)
'''),
    # --- 06.reward
    Mutant("reward_first_number", "06.reward", "capstone", _reward(pick="numbers[0]")),
    Mutant("reward_format_searches", "06.reward", "capstone",
           _reward(format="1.0 if re.search(ANSWER, text) else 0.0")),
    Mutant("reward_length_not_clipped", "06.reward", "capstone",
           _reward(length="rules.overlong_penalty(len(text), MAX_CHARS, BUFFER_CHARS, 1.0)")),
    Mutant("reward_digits_over_unstripped", "06.reward", "capstone",
           _reward(digits="sum(c.isdigit() for c in solution_str) / len(solution_str) if solution_str else 0.0")),
    Mutant("reward_empty_divides_by_zero", "06.reward", "capstone",
           _reward(digits="sum(c.isdigit() for c in text) / len(text)")),
    Mutant("reward_returns_only_the_total", "06.reward", "capstone",
           _reward(ret="rules.combine(components, WEIGHTS)['score']")),
    Mutant("reward_without_acc", "06.reward", "capstone", _reward(ret="rules.combine(components, WEIGHTS)")),
    Mutant("reward_own_weighted_sum", "06.reward", "capstone",
           _reward(ret="{'score': sum(WEIGHTS[k] * v for k, v in components.items()), **components}")),
    Mutant("reward_string_compare", "06.reward", "capstone", '''
_solution_score = compute_score
def compute_score(data_source, solution_str, ground_truth, extra_info=None):
    out = dict(_solution_score(data_source, solution_str, ground_truth, extra_info))
    numbers = re.findall(ANSWER, solution_str.strip())
    if out["correct"] and numbers[-1] != ground_truth:
        out["score"] -= WEIGHTS["correct"]
        out["correct"] = 0.0
    return out
'''),
    # --- 06.overrides
    Mutant("overrides_top_level_reward_key", "06.overrides", "capstone", '''
def plug_in_overrides(capstone_file, estimator_name=ESTIMATOR_NAME):
    return [f"algorithm.adv_estimator={estimator_name}", f"custom_reward_function.path={capstone_file}",
            "custom_reward_function.name=compute_score"]
'''),
    Mutant("overrides_fixed_estimator_name", "06.overrides", "capstone", '''
def plug_in_overrides(capstone_file, estimator_name=ESTIMATOR_NAME):
    return ["algorithm.adv_estimator=verlings_grpo", f"reward.custom_reward_function.path={capstone_file}",
            "reward.custom_reward_function.name=compute_score"]
'''),
    Mutant("overrides_without_the_name", "06.overrides", "capstone", '''
def plug_in_overrides(capstone_file, estimator_name=ESTIMATOR_NAME):
    return [f"algorithm.adv_estimator={estimator_name}", f"reward.custom_reward_function.path={capstone_file}",
            "reward.custom_reward_function.name=score"]
'''),
    # --- 06.sft
    Mutant("sft_mask_whole_conversation", "06.sft", "capstone", '''
_solution_mask = sft_loss_mask
def sft_loss_mask(messages, tokenizer, system_prompt_len, generation_prompt_len):
    ids, mask = _solution_mask(messages, tokenizer, system_prompt_len, generation_prompt_len)
    return ids, [1] * len(ids)
'''),
    Mutant("sft_mask_trains_the_role_header", "06.sft", "capstone", '''
_solution_mask = sft_loss_mask
def sft_loss_mask(messages, tokenizer, system_prompt_len, generation_prompt_len):
    return _solution_mask(messages, tokenizer, system_prompt_len, 0)
'''),
    Mutant("sft_keeps_repeated_system_prompt", "06.sft", "capstone", '''
_solution_mask = sft_loss_mask
def sft_loss_mask(messages, tokenizer, system_prompt_len, generation_prompt_len):
    return _solution_mask(messages, tokenizer, 0, generation_prompt_len)
'''),
    Mutant("sft_whole_conversation_template", "06.sft", "capstone", '''
def sft_loss_mask(messages, tokenizer, system_prompt_len, generation_prompt_len):
    prompt = list(tokenizer.apply_chat_template(messages[:-1], add_generation_prompt=True, tokenize=True,
                                                return_dict=True)["input_ids"])
    ids = list(tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True)["input_ids"])
    return ids, [0] * len(prompt) + [1] * (len(ids) - len(prompt))
'''),
    Mutant("sft_mask_without_stop_token", "06.sft", "capstone", '''
_solution_mask = sft_loss_mask
def sft_loss_mask(messages, tokenizer, system_prompt_len, generation_prompt_len):
    ids, mask = _solution_mask(messages, tokenizer, system_prompt_len, generation_prompt_len)
    stop = set(tokenizer.convert_tokens_to_ids(["<|im_end|>"]))
    return ids, [0 if i in stop else m for i, m in zip(ids, mask)]
'''),
    # --- 06.majority
    Mutant("majority_ties_to_the_last", "06.majority", "capstone", '''
def majority_vote(preds, values):
    counts, first = {}, {}
    for p, v in zip(preds, values):
        counts[p] = counts.get(p, 0) + 1
        first.setdefault(p, v)
    top = max(counts.values())
    return first[[p for p in counts if counts[p] == top][-1]]
'''),
    Mutant("majority_last_value", "06.majority", "capstone", '''
def majority_vote(preds, values):
    counts, last = {}, {}
    for p, v in zip(preds, values):
        counts[p] = counts.get(p, 0) + 1
        last[p] = v
    return last[max(counts, key=counts.get)]
'''),
    Mutant("majority_best_value", "06.majority", "capstone", '''
def majority_vote(preds, values):
    return max(values)
'''),
    Mutant("majority_sorted_ties", "06.majority", "capstone", '''
def majority_vote(preds, values):
    counts, first = {}, {}
    for p, v in zip(preds, values):
        counts[p] = counts.get(p, 0) + 1
        first.setdefault(p, v)
    return first[max(sorted(counts), key=counts.get)]
'''),
]


def _target(mutant: Mutant, root: Path) -> Path:
    for chapter in ("03", "04", "06"):
        shutil.copytree(SOLUTIONS / chapter, root / chapter, ignore=shutil.ignore_patterns("__pycache__"))
    module = root / "06" / f"{mutant.module}.py"
    patch = textwrap.dedent(mutant.code)
    compile(patch, f"<mutant {mutant.name}>", "exec")
    module.write_text(module.read_text(encoding="utf-8") + f"\n\n# --- mutant: {mutant.name} ---\n" + patch)
    return root


@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    with tempfile.TemporaryDirectory(prefix=f"mutant-{mutant.name}-") as tmp:
        failed, _ = graded_failures(_target(mutant, Path(tmp)), mutant.exercise)
    assert failed, f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"


def test_solution_passes_the_same_way():
    """The harness above must not fail everything: the unmodified solutions pass."""
    with tempfile.TemporaryDirectory(prefix="mutant-none-") as tmp:
        root = Path(tmp)
        for chapter in ("03", "04", "06"):
            shutil.copytree(SOLUTIONS / chapter, root / chapter)
        for exercise in ("06.estimator", "06.reward", "06.overrides", "06.sft", "06.majority"):
            failed, passed = graded_failures(root, exercise)
            assert not failed and passed, (exercise, failed)
