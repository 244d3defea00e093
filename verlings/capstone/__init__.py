"""Chapter 06, the capstone: a real verl GRPO run with the learner's code plugged in.

* :mod:`~verlings.capstone.model`, :mod:`~verlings.capstone.data` — the tiny Qwen2 and
  the procedural task with its held-out split (made locally, never downloaded);
* :mod:`~verlings.capstone.launcher` — ``python -m verl.trainer.main_ppo`` with the course's
  overrides; CPU path (platform plug-in :mod:`~verlings.capstone.cpu_platform`) or GPU path;
* :mod:`~verlings.capstone.probe` — loaded inside verl: registers the learner's estimator,
  counts the calls verl makes into the learner's code, keeps the learner's traceback;
* :mod:`~verlings.capstone.sft` — the warm start: verl's SFT trainer on the CPU, cached by recipe;
* :mod:`~verlings.capstone.evaluate` — verl's model merger, greedy evaluation with transformers;
* :mod:`~verlings.capstone.summary` — TensorBoard events → ``metrics.json`` and the curves;
* :mod:`~verlings.capstone.cli` — ``python grader.py capstone [--plot] [--eval] [--steps N] [--vllm-sleep on]``.
"""
