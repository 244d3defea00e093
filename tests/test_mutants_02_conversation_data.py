"""Known-wrong variants of exercises/02/conversation_data.py: each must fail at least one graded test."""

import pytest

from verlings.dev.mutants import Mutant, caught

PROMPT, FIT = "02.history_prompt", "02.fit_history"

MUTANTS = [
    Mutant("question_without_instruction", PROMPT, "conversation_data", """
        _reference_history_prompt = history_prompt

        def history_prompt(history, question, system=None):
            messages = _reference_history_prompt(history, question, system)
            messages[-1]["content"] = question
            return messages
        """),
    Mutant("instruction_on_every_user_turn", PROMPT, "conversation_data", """
        _reference_history_prompt = history_prompt

        def history_prompt(history, question, system=None):
            messages = _reference_history_prompt(history, question, system)
            for m in messages[:-1]:
                if m["role"] == "user":
                    m["content"] = m["content"] + " " + INSTRUCTION
            return messages
        """),
    Mutant("system_after_history", PROMPT, "conversation_data", """
        _reference_history_prompt = history_prompt

        def history_prompt(history, question, system=None):
            messages = _reference_history_prompt(history, question, system)
            if system is not None:
                messages = messages[1:-1] + [messages[0], messages[-1]]
            return messages
        """),
    Mutant("history_ending_with_user_accepted", PROMPT, "conversation_data", """
        def history_prompt(history, question, system=None):
            if not question:
                raise ValueError("empty question")
            messages = [{"role": "system", "content": system}] if system is not None else []
            for i, m in enumerate(history):
                text = m["content"]
                if m["role"] not in ("user", "assistant") or not isinstance(text, str) or not text.strip():
                    raise ValueError(f"history[{i}] is not a chat turn")
                if i and m["role"] == history[i - 1]["role"]:
                    raise ValueError(f"history[{i}] repeats the previous role")
                if i == 0 and m["role"] != "user":
                    raise ValueError("history[0] must be a user turn")
                messages.append({"role": m["role"], "content": m["content"]})
            messages.append({"role": "user", "content": question + " " + INSTRUCTION})  # no check of the last turn
            return messages
        """),
    Mutant("history_not_validated", PROMPT, "conversation_data", """
        def history_prompt(history, question, system=None):
            if not question:
                raise ValueError("empty question")
            head = [{"role": "system", "content": system}] if system is not None else []
            return head + [{"role": m["role"], "content": m["content"]} for m in history] + [
                {"role": "user", "content": question + " " + INSTRUCTION}]
        """),
    Mutant("history_shared_with_the_caller", PROMPT, "conversation_data", """
        _reference_history_prompt = history_prompt

        def history_prompt(history, question, system=None):
            _reference_history_prompt(history, question, system)  # the checks
            head = [{"role": "system", "content": system}] if system is not None else []
            return head + list(history) + [{"role": "user", "content": question + " " + INSTRUCTION}]
        """),
    Mutant("row_scores_the_first_question", PROMPT, "conversation_data", """
        _reference_make_history_row = make_history_row

        def make_history_row(history, question, ground_truth, index, split="train", system=None):
            row = _reference_make_history_row(history, question, ground_truth, index, split, system)
            if history:
                row["extra_info"]["question"] = history[0]["content"]
            return row
        """),
    Mutant("fit_drops_the_newest_pairs", FIT, "conversation_data", """
        def fit_history(messages, tokenizer, max_prompt_length):
            messages = [dict(m) for m in messages]
            head = messages[:1] if messages[0]["role"] == "system" else []
            turns, last = messages[len(head):-1], messages[-1:]
            while prompt_length(head + turns + last, tokenizer) > max_prompt_length:
                if not turns:
                    raise ValueError("does not fit")
                turns = turns[:-2]
            return head + turns + last
        """),
    Mutant("fit_drops_single_messages", FIT, "conversation_data", """
        def fit_history(messages, tokenizer, max_prompt_length):
            messages = [dict(m) for m in messages]
            head = messages[:1] if messages[0]["role"] == "system" else []
            turns, last = messages[len(head):-1], messages[-1:]
            while prompt_length(head + turns + last, tokenizer) > max_prompt_length:
                if not turns:
                    raise ValueError("does not fit")
                turns = turns[1:]
            return head + turns + last
        """),
    Mutant("fit_without_generation_prompt", FIT, "conversation_data", """
        def prompt_length(messages, tokenizer):
            ids = tokenizer.apply_chat_template(list(messages), add_generation_prompt=False, tokenize=True)
            return len(ids["input_ids"] if hasattr(ids, "keys") else ids)
        """),
    Mutant("fit_strictly_shorter", FIT, "conversation_data", """
        _reference_prompt_length = prompt_length

        def prompt_length(messages, tokenizer):
            return _reference_prompt_length(messages, tokenizer) + 1  # i.e. fits only when length < max
        """),
    Mutant("fit_counts_characters", FIT, "conversation_data", """
        def prompt_length(messages, tokenizer):
            return len(tokenizer.apply_chat_template(list(messages), add_generation_prompt=True, tokenize=False)) // 4
        """),
    Mutant("fit_drops_the_system_prompt", FIT, "conversation_data", """
        def fit_history(messages, tokenizer, max_prompt_length):
            messages = [dict(m) for m in messages]
            turns, last = messages[:-1], messages[-1:]
            while prompt_length(turns + last, tokenizer) > max_prompt_length:
                if not turns:
                    raise ValueError("does not fit")
                turns = turns[2:] if turns[0]["role"] != "system" else turns[1:]
            return turns + last
        """),
    Mutant("fit_returns_the_bare_question_when_nothing_fits", FIT, "conversation_data", """
        _reference_fit_history = fit_history

        def fit_history(messages, tokenizer, max_prompt_length):
            try:
                return _reference_fit_history(messages, tokenizer, max_prompt_length)
            except ValueError:
                return [m for m in messages if m["role"] == "system"] + list(messages[-1:])
        """),
    Mutant("fit_returns_the_callers_list", FIT, "conversation_data", """
        _reference_fit_history = fit_history

        def fit_history(messages, tokenizer, max_prompt_length):
            kept = _reference_fit_history(messages, tokenizer, max_prompt_length)
            return messages if len(kept) == len(messages) else kept
        """),
]


@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
