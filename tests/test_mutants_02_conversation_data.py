"""Known-wrong variants of exercises/02/conversation_data.py: each must fail at least one graded test.

Each mutant is an edit of solutions/02/conversation_data.py (``replace={reference text: wrong text}``).
"""

import pytest

from verlings.dev.mutants import Mutant, caught

PROMPT, FIT = "02.history_prompt", "02.fit_history"
COPY_TURN = "messages.append({\"role\": want, \"content\": content})"
SYSTEM_TURN = "        messages.append({\"role\": \"system\", \"content\": system})\n"
QUESTION_TURN = "    messages.append({\"role\": \"user\", \"content\": question + \" \" + INSTRUCTION})\n"
ROLE_CHECK = "        if not isinstance(message, dict) or message.get(\"role\") != want:\n"
CONTENT_CHECK = "        if not isinstance(content, str) or not content.strip():\n"
ENDS_WITH_USER_CHECK = "    if len(history) % 2:\n"
DROP_PAIR = "turns = turns[2:]"

MUTANTS = [
    Mutant("question_without_instruction", PROMPT, "conversation_data",
           replace={"\"content\": question + \" \" + INSTRUCTION}": "\"content\": question}"}),
    Mutant("instruction_on_every_user_turn", PROMPT, "conversation_data", replace={
        COPY_TURN: "messages.append({\"role\": want, \"content\": content + \" \" + INSTRUCTION if want == \"user\""
        " else content})"}),
    Mutant("system_after_history", PROMPT, "conversation_data", replace={
        SYSTEM_TURN: "        pass\n",
        QUESTION_TURN: "    if system is not None:\n" + SYSTEM_TURN + QUESTION_TURN}),
    Mutant("history_ending_with_user_accepted", PROMPT, "conversation_data",
           replace={ENDS_WITH_USER_CHECK: "    if False:\n"}),
    Mutant("history_not_validated", PROMPT, "conversation_data", replace={
        ROLE_CHECK: "        if False:\n",
        CONTENT_CHECK: "        if False:\n",
        ENDS_WITH_USER_CHECK: "    if False:\n",
        COPY_TURN: "messages.append({\"role\": message[\"role\"], \"content\": content})"}),
    Mutant("history_shared_with_the_caller", PROMPT, "conversation_data",
           replace={COPY_TURN: "messages.append(message)"}),
    Mutant("row_scores_the_first_question", PROMPT, "conversation_data", replace={
        "\"question\": question}": "\"question\": history[0][\"content\"] if history else question}"}),
    # rows made for evaluation by default: a training file's rows say split "test"
    Mutant("history_row_split_defaults_to_test", PROMPT, "conversation_data",
           replace={'split: str = "train",': 'split: str = "test",'}),
    # the row's index left out of extra_info: verl's RLHFDataset then gives every row index 0
    Mutant("history_row_index_not_in_extra_info", PROMPT, "conversation_data",
           replace={'"extra_info": {"split": split, "index": index, "question": question}':
                    '"extra_info": {"split": split, "question": question}'}),
    Mutant("fit_drops_the_newest_pairs", FIT, "conversation_data", replace={DROP_PAIR: "turns = turns[:-2]"}),
    Mutant("fit_drops_single_messages", FIT, "conversation_data", replace={DROP_PAIR: "turns = turns[1:]"}),
    Mutant("fit_without_generation_prompt", FIT, "conversation_data",
           replace={"add_generation_prompt=True, tokenize=True": "add_generation_prompt=False, tokenize=True"}),
    Mutant("fit_strictly_shorter", FIT, "conversation_data", replace={
        "if prompt_length(kept, tokenizer) <= max_prompt_length:":
        "if prompt_length(kept, tokenizer) < max_prompt_length:"}),
    Mutant("fit_counts_characters", FIT, "conversation_data",
           replace={"tokenize=True)": "tokenize=False)", "return len(ids)": "return len(ids) // 4"}),
    Mutant("fit_drops_the_system_prompt", FIT, "conversation_data", replace={
        "head = messages[:1] if messages and messages[0][\"role\"] == \"system\" else []": "head = []",
        DROP_PAIR: "turns = turns[2:] if turns[0][\"role\"] != \"system\" else turns[1:]"}),
    Mutant("fit_returns_the_bare_question_when_nothing_fits", FIT, "conversation_data", replace={
        "        if not turns:\n": "        if not turns:\n            return kept\n"}),
    Mutant("fit_returns_the_callers_list", FIT, "conversation_data", replace={
        "    messages = [dict(m) for m in messages]\n":
        "    callers, messages = messages, [dict(m) for m in messages]\n",
        "            return kept\n": "            return callers if len(kept) == len(messages) else kept\n"}),
]


@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
