"""Chapter 07's agent-RL run: the learner's chapter-05 tool agent inside a real verl GRPO run.

Modules with one job each; ``tool_config`` checks a tool-config YAML before verl reads it,
``guard`` keeps a bad tool (raising, hanging, returning non-text) from stopping a run.
"""
