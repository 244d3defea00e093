"""Graded tests for exercises/02/conversation_data.py: prompts that carry conversation history.

Expected prompts are written out by hand. Lengths are measured the way verl 0.9.1's
RLHFDataset measures them (``rl_dataset.py``, ``maybe_filter_out_long_prompts``: the chat template
with ``add_generation_prompt=True``, in tokens), and the slow tests load your rows with verl's own
RLHFDataset and its length filter.
"""

import copy

import pytest

from verlings import learner_module
from verlings.testing import assert_equal, hint_line

conv = learner_module("02", "conversation_data")
PROMPT, FIT = "02.history_prompt", "02.fit_history"
INSTRUCTION = 'Let\'s think step by step and output the final answer after "####".'

SYSTEM = "You are a careful math tutor."
# Four earlier (user, assistant) pairs, oldest first; each is a few dozen tokens long.
HISTORY = [
    {"role": "user", "content": "Tom has 3 apples and buys 2 more. How many apples does he have?"},
    {"role": "assistant", "content": "He has 3 + 2 = 5 apples. #### 5"},
    {"role": "user", "content": "He gives 1 apple to Ann. How many are left?"},
    {"role": "assistant", "content": "5 - 1 = 4 apples are left. #### 4"},
    {"role": "user", "content": "Each apple costs 2 dollars. What are his apples worth?"},
    {"role": "assistant", "content": "4 * 2 = 8 dollars. #### 8"},
    {"role": "user", "content": "Ann doubles her single apple. How many does she have now?"},
    {"role": "assistant", "content": "1 * 2 = 2 apples. #### 2"},
]
QUESTION = "Together, how many apples do Tom and Ann have?"


def _user(question):
    return {"role": "user", "content": question + " " + INSTRUCTION}


def _value_error(call, shown, rule, **kwargs):
    """The ValueError the call raises; any other outcome fails, naming the input (``shown``) and the rule."""
    try:
        call(**kwargs)
    except ValueError as exc:
        return exc
    except NotImplementedError:
        raise  # still a stub: the harness reports it as such
    except Exception as exc:
        raise AssertionError(f"{call.__name__}({shown}) raised {type(exc).__name__}: {exc}\n"
                             f"  expected ValueError — {rule}\n" + hint_line()) from None
    raise AssertionError(f"{call.__name__}({shown}) returned without an error\n"
                         f"  expected ValueError — {rule}\n" + hint_line())


# --- history_prompt ---------------------------------------------------------------------------


@pytest.mark.exercise(PROMPT)
def test_history_prompt_hand_worked():
    seen = conv.history_prompt(history=HISTORY[:4], question=QUESTION, system=SYSTEM)
    # Written out: the system prompt first, the history as given, the new question + INSTRUCTION last.
    expected = [{"role": "system", "content": SYSTEM}, *HISTORY[:4], _user(QUESTION)]
    assert_equal(seen, expected, what="history_prompt(two earlier pairs, question, system)",
                 why="[system] + history + [user: question + ' ' + INSTRUCTION] — the history is the context the "
                     "model answers in; only the new question gets the instruction")


@pytest.mark.exercise(PROMPT)
@pytest.mark.parametrize(("system", "expected"), [
    (None, [_user(QUESTION)]),
    (SYSTEM, [{"role": "system", "content": SYSTEM}, _user(QUESTION)]),
], ids=["no_system", "system"])
def test_history_prompt_without_history(system, expected):
    seen = conv.history_prompt(history=[], question=QUESTION, system=system)
    assert_equal(seen, expected, what=f"history_prompt(history=[], question, system={system!r})",
                 why="no history: a single-turn prompt (a system message only when one is given)")


@pytest.mark.exercise(PROMPT)
def test_history_prompt_leaves_the_input_alone_and_keeps_role_and_content():
    history = copy.deepcopy(HISTORY[:2])
    history[0]["name"] = "tom"  # an extra key the chat template does not expect
    before = copy.deepcopy(history)
    seen = conv.history_prompt(history=history, question=QUESTION)
    assert_equal(history, before, what="the caller's history after history_prompt",
                 why="build a new list of new dicts: rows are often built from one shared history")
    assert_equal(seen[0], {"role": "user", "content": HISTORY[0]["content"]}, what="first message of the prompt",
                 why="each message is exactly {'role', 'content'}")
    seen[1]["content"] = "changed"
    assert_equal(history[1]["content"], HISTORY[1]["content"], what="the caller's history[1] after editing the result",
                 why="copy the messages: the result must not share dicts with the input")


# (history, question, system, rule) — each must raise ValueError.
BAD = {
    "ends_with_user": (HISTORY[:3], QUESTION, None, "history[2]",
                       "the history ends with a user turn: two user turns in a row"),
    "starts_with_assistant": (HISTORY[1:4], QUESTION, None, "history[0]",
                              "the history starts with an assistant turn"),
    "two_users": ([HISTORY[0], HISTORY[2], HISTORY[1], HISTORY[3]], QUESTION, None, "history[1]",
                  "turns must alternate user, assistant"),
    "system_inside": ([{"role": "system", "content": SYSTEM}, *HISTORY[:2]], QUESTION, None, "history[0]",
                      "a system message goes through system=, not inside the history"),
    "empty_content": ([HISTORY[0], {"role": "assistant", "content": "  "}], QUESTION, None, "history[1]",
                      "every message needs text"),
    "content_not_str": ([HISTORY[0], {"role": "assistant", "content": ["#### 5"]}], QUESTION, None, "history[1]",
                        "content is a string"),
    "empty_question": (HISTORY[:2], "", None, None, "the new question must be a non-empty string"),
    "blank_system": (HISTORY[:2], QUESTION, "   ", None, "system is a non-empty string or None"),
    "system_not_str": (HISTORY[:2], QUESTION, ["be brief"], None, "system is a non-empty string or None"),
}


@pytest.mark.exercise(PROMPT)
@pytest.mark.parametrize("case", list(BAD))
def test_history_prompt_rejects_a_malformed_conversation(case):
    history, question, system, where, rule = BAD[case]
    shown = f"history={history!r}, question={question!r}, system={system!r}"
    err = _value_error(conv.history_prompt, shown, rule, history=copy.deepcopy(history), question=question,
                       system=system)
    if where is not None:
        assert where in str(err), (
            f"history_prompt({case}): the ValueError should name the position {where!r}, got: {err}\n"
            + hint_line()
        )


@pytest.mark.exercise(PROMPT)
def test_make_history_row_hand_worked():
    seen = conv.make_history_row(history=HISTORY[:2], question=QUESTION, ground_truth="7", index=3, split="test",
                                 system=SYSTEM)
    expected = {
        "data_source": "openai/gsm8k",
        "prompt": [{"role": "system", "content": SYSTEM}, *HISTORY[:2], _user(QUESTION)],
        "ability": "math",
        "reward_model": {"style": "rule", "ground_truth": "7"},
        "extra_info": {"split": "test", "index": 3, "question": QUESTION},
    }
    assert_equal(seen, expected, what="make_history_row(one earlier pair, question, '7', index=3, split='test')",
                 why="make_row's five keys; the prompt from history_prompt; only the new question "
                                      "is scored, so ground truth and extra_info.question are the new question's")


@pytest.mark.exercise(PROMPT)
def test_make_history_row_defaults():
    # The signature's defaults: split="train", system=None (no system message).
    seen = conv.make_history_row(history=HISTORY[:2], question=QUESTION, ground_truth="7", index=0)
    assert_equal((seen["extra_info"]["split"], seen["prompt"][0]["role"]), ("train", "user"),
                 what="(extra_info['split'], the first message's role) of make_history_row without split or system",
                 why="split defaults to 'train' and system to None, as in the signature")


# --- fit_history ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tokenizer():
    from verlings.fixtures.tokenizer import local_tokenizer

    return local_tokenizer()


def _verl_length(tokenizer, messages) -> int:
    # RLHFDataset's doc2len: apply_chat_template(prompt, add_generation_prompt=True, tokenize=True).
    ids = tokenizer.apply_chat_template(list(messages), add_generation_prompt=True, tokenize=True)
    return len(ids["input_ids"] if hasattr(ids, "keys") else ids)


def _candidates(system):
    """The prompt with the k oldest pairs dropped, k = 0..4 (the possible right answers)."""
    head = [{"role": "system", "content": SYSTEM}] if system else []
    return [head + HISTORY[2 * k :] + [_user(QUESTION)] for k in range(len(HISTORY) // 2 + 1)]


def _budgets(tokenizer, system):
    """(max_prompt_length, k expected) at every boundary: exactly the length of candidate k (it fits),
    and one token less (it does not: k + 1 pairs go)."""
    lengths = [_verl_length(tokenizer, c) for c in _candidates(system)]
    out = []
    for k, n in enumerate(lengths):
        out.append((n, k))
        if k + 1 < len(lengths):
            out.append((n - 1, k + 1))
    return lengths, out


@pytest.mark.exercise(FIT)
@pytest.mark.parametrize("system", [SYSTEM, None], ids=["system", "no_system"])
def test_fit_history_drops_the_oldest_pairs_just_enough(tokenizer, system):
    candidates = _candidates(system)
    lengths, budgets = _budgets(tokenizer, system)
    for budget, k in budgets:
        seen = conv.fit_history(messages=copy.deepcopy(candidates[0]), tokenizer=tokenizer, max_prompt_length=budget)
        if seen != candidates[k]:
            # Roles, and the first words of the oldest turn kept: enough to see what was dropped.
            kept = ([m.get("role") for m in seen], seen[1 if system else 0].get("content", "").split(".")[0]) \
                if isinstance(seen, list) and len(seen) > 1 else seen
            raise AssertionError(
                f"fit_history(4 earlier pairs{', a system prompt' if system else ''}, max_prompt_length={budget}):\n"
                f"  expected: the {k} oldest pair(s) dropped — {len(candidates[k])} messages, {lengths[k]} tokens\n"
                f"  seen:     {len(seen) if isinstance(seen, list) else '?'} messages (roles, oldest turn kept): "
                f"{kept}\n"
                f"  lengths with 0..4 pairs dropped, as RLHFDataset measures them (chat template + generation "
                f"prompt): {lengths}; keep the most recent turns that fit (length <= max_prompt_length), drop whole "
                "(user, assistant) pairs from the oldest, keep the system prompt and the new question\n"
                + hint_line()
            )


@pytest.mark.exercise(FIT)
def test_fit_history_returns_a_new_list_when_it_fits(tokenizer):
    messages = _candidates(SYSTEM)[0]
    before = copy.deepcopy(messages)
    seen = conv.fit_history(messages=messages, tokenizer=tokenizer, max_prompt_length=10_000)
    assert_equal(seen, before, what="fit_history with room to spare", why="nothing to drop")
    assert seen is not messages, "fit_history returned the caller's list itself: return a new list"
    assert_equal(messages, before, what="the caller's messages after fit_history")


@pytest.mark.exercise(FIT)
def test_fit_history_refuses_when_even_the_question_does_not_fit(tokenizer):
    bare = _candidates(SYSTEM)[-1]  # system + new question, no history
    budget = _verl_length(tokenizer, bare) - 1
    _value_error(conv.fit_history, f"<system + 4 pairs + question>, tokenizer, max_prompt_length={budget}",
                 f"the system prompt and the question alone take {budget + 1} tokens, more than {budget}",
                 messages=_candidates(SYSTEM)[0], tokenizer=tokenizer, max_prompt_length=budget)


# --- as verl loads it -------------------------------------------------------------------------


def _load_with_verl(tmp_path, monkeypatch, rows, max_prompt_length, name):
    import datasets
    import pyarrow as pa
    import pyarrow.parquet as pq
    from omegaconf import OmegaConf
    from verl.utils.dataset.rl_dataset import RLHFDataset

    from verlings.fixtures.tokenizer import local_tokenizer

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "hf-cache"))
    path = tmp_path / f"{name}.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    config = OmegaConf.create({"cache_dir": str(tmp_path / "verl-cache"), "max_prompt_length": max_prompt_length,
                               "filter_overlong_prompts": True, "filter_overlong_prompts_workers": 1})
    return RLHFDataset(data_files=str(path), tokenizer=local_tokenizer(), config=config)


@pytest.mark.slow
@pytest.mark.exercise(PROMPT)
def test_verl_rlhf_dataset_loads_history_rows(tmp_path, monkeypatch, tokenizer):
    rows = [conv.make_history_row(history=HISTORY[: 2 * k], question=QUESTION, ground_truth=str(k), index=k,
                                  system=SYSTEM if k % 2 else None) for k in range(5)]
    dataset = _load_with_verl(tmp_path, monkeypatch, rows, 4096, "history")
    assert_equal(len(dataset), len(rows), what="rows verl's RLHFDataset kept (max_prompt_length 4096)",
                 why="verl drops rows whose prompt it cannot template")
    for k, row in enumerate(rows):
        item = dataset[k]
        assert_equal(item["raw_prompt"], row["prompt"], what=f"verl's raw_prompt of the row with {k} earlier pairs")
        text = tokenizer.apply_chat_template(item["raw_prompt"], add_generation_prompt=True, tokenize=False)
        # What the rollout sees: every earlier turn in order, then the new question, then the assistant's turn.
        parts = [m["content"] for m in HISTORY[: 2 * k]] + [QUESTION]
        at = [text.find(p) for p in parts]
        assert -1 not in at and at == sorted(at) and text.endswith("<|im_start|>assistant\n"), (
            f"the templated prompt of the row with {k} earlier pairs does not show the turns in order and end with "
            f"the assistant's turn; the model would see:\n{text}\n" + hint_line()
        )
        assert_equal((item["index"], item["reward_model"]["ground_truth"]), (k, str(k)),
                     what=f"verl's (index, ground truth) of row {k}")


@pytest.mark.slow
@pytest.mark.exercise(FIT)
def test_verl_length_filter_keeps_fitted_rows_and_nothing_longer(tmp_path, monkeypatch, tokenizer):
    lengths, _ = _budgets(tokenizer, SYSTEM)
    budget = lengths[2] + 3  # two pairs must go: candidate 1 is longer than this
    fitted = conv.fit_history(messages=_candidates(SYSTEM)[0], tokenizer=tokenizer, max_prompt_length=budget)
    dropped = (len(_candidates(SYSTEM)[0]) - len(fitted)) // 2
    rows = [{"data_source": "openai/gsm8k", "prompt": p, "ability": "math",
             "reward_model": {"style": "rule", "ground_truth": "3"}, "extra_info": {"index": i}}
            for i, p in enumerate([fitted, *_candidates(SYSTEM)[: max(dropped, 0)]])]
    dataset = _load_with_verl(tmp_path, monkeypatch, rows, budget, "fitted")
    kept = [dataset[i]["extra_info"]["index"] for i in range(len(dataset))]
    assert_equal(kept, [0], what=f"rows verl keeps with max_prompt_length={budget} (row 0: your fitted prompt; "
                                 f"rows 1..: the same conversation with fewer pairs dropped)",
                 why="verl's filter_overlong_prompts must keep your prompt, and would drop any prompt with one more "
                     "earlier pair: fit_history keeps as much history as fits, no more")
