"""Known-wrong variants of exercises/05/agent_loop.py for the conventions test_agent_loop_contract.py pins
(issue 24's mutation triage): edits of solutions/05/agent_loop.py (``replace={reference: wrong}``); each
must fail at least one graded test.
"""

import pytest

from verlings.dev.mutants import Mutant, caught

RUN, REG, E2E = "05.run_agent", "05.agent_registry", "05.gsm8k_agent"
EPISODE_ARGS = (
    '        sampling_params or {"temperature": 1.0, "logprobs": True},\n        max_turns,\n        response_length,\n'
)

MUTANTS = [
    # str() of the tool's text: a tool that answers nothing shows the model 'None'
    Mutant("tool_answer_none_shown_as_none", RUN, "agent_loop",
           replace={'return response.text or "", reward': "return str(response.text), reward"}),
    # only the fields that were set: a schema's explicit None reaches the template as null
    Mutant("schemas_keep_explicit_nulls", RUN, "agent_loop", replace={
        "schemas = [tool.tool_schema.model_dump(exclude_unset=True, exclude_none=True) for tool in tools]":
            "schemas = [tool.tool_schema.model_dump(exclude_unset=True) for tool in tools]"}),
    Mutant("extra_fields_without_turn_scores", RUN, "agent_loop",
           replace={'extra_fields={"turn_scores": [], ': "extra_fields={"}),
    # the row's tools_kwargs never reach the tools: every create gets create_kwargs={}
    Mutant("tool_agent_loop_run_drops_tools_kwargs", REG, "agent_loop",
           replace={'tools_kwargs=kwargs.get("tools_kwargs") or {},': "tools_kwargs={},"}),
    Mutant("gsm8k_episode_ignores_max_turns", E2E, "agent_loop", replace={
        EPISODE_ARGS: EPISODE_ARGS.replace("        max_turns,\n", "        None,\n")}),
    Mutant("gsm8k_episode_ignores_response_length", E2E, "agent_loop", replace={
        EPISODE_ARGS: EPISODE_ARGS.replace("        response_length,\n", "        4096,\n")}),
    # the default sampling without log-probs: verl's trainer needs the engine's log-probs
    Mutant("gsm8k_episode_default_sampling_without_logprobs", E2E, "agent_loop", replace={
        'sampling_params or {"temperature": 1.0, "logprobs": True}': 'sampling_params or {"temperature": 1.0}'}),
    # every tool's score summed: the calculator's and the probe tools' scores leak into the reward
    Mutant("gsm8k_episode_sums_every_tools_score", E2E, "agent_loop", replace={
        'float(output.extra_fields["tool_scores"].get(GSM8K_TOOL, 0.0))':
            'float(sum(output.extra_fields["tool_scores"].values()))'}),
    # only the parquet file's place: rows the dataset loader lifted lose their ground truth
    Mutant("gsm8k_episode_reads_only_extra_info", E2E, "agent_loop", replace={
        'tools_kwargs = row.get("tools_kwargs") or (row.get("extra_info") or {}).get("tools_kwargs") or {}':
            'tools_kwargs = (row.get("extra_info") or {}).get("tools_kwargs") or {}'}),
]


@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
