"""The warm worker's Hydra memo (verlings/hydra_cache.py) changes how often files are parsed, never what composes."""

import subprocess
import sys
import textwrap

from verlings.paths import ROOT


def _run(code: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_verls_config_composes_the_same_with_the_memo():
    out = _run("""
        from omegaconf import OmegaConf
        from verlings import hydra_cache, verl_config
        overrides = ["algorithm.adv_estimator=grpo", "actor_rollout_ref.actor.use_kl_loss=True"]
        before = OmegaConf.to_yaml(verl_config.compose(overrides))
        hydra_cache.prewarm()
        from hydra._internal.core_plugins.file_config_source import FileConfigSource
        assert "install" in FileConfigSource.load_config.__qualname__, "the memo is not in Hydra's file source"
        after = [OmegaConf.to_yaml(verl_config.compose(overrides)) for _ in range(2)]
        from hydra.core.global_hydra import GlobalHydra
        print(before == after[0] == after[1], GlobalHydra.instance().is_initialized())
    """)
    assert out.split() == ["True", "False"], out


def test_an_edited_file_is_read_again_and_copies_are_independent(tmp_path):
    (tmp_path / "main.yaml").write_text("a: 1\nb: {c: 2}\n")
    out = _run(f"""
        from pathlib import Path
        from hydra import compose, initialize_config_dir
        from verlings import hydra_cache
        hydra_cache.install()
        def load():
            with initialize_config_dir(config_dir={str(tmp_path)!r}, version_base=None):
                return compose(config_name="main")
        first = load()
        first.b.c = 99  # a caller's change must not reach the next composition
        second = load()
        Path({str(tmp_path / "main.yaml")!r}).write_text("a: 10\\nb: {{c: 2}}\\n")
        third = load()
        print(first.a, second.b.c, third.a)
    """)
    assert out.split() == ["1", "2", "10"], out
