"""The capstone's policy: a tiny random Qwen2, built from a seeded config, never downloaded.

verl loads the actor, the reference policy and vLLM from one folder
(``actor_rollout_ref.model.path``), so :func:`model_path` saves the model together with the
course tokenizer (:mod:`verlings.fixtures.tokenizer`)::

    >>> from verlings.capstone.model import model_path
    >>> path = model_path()            # .verlings/cache/capstone/tiny-qwen2-v1
    >>> sorted(p.name for p in path.iterdir())[:3]
    ['chat_template.jinja', 'config.json', 'generation_config.json']

Hidden size 128, 2 layers, 2 attention heads with head_dim 64, 1 key/value head (GQA, as
Qwen2 has), vocabulary = the course tokenizer. About 0.5 M parameters: a training step on
two CPU cores takes seconds. Random weights: it writes noise until RL teaches it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from verlings.fixtures.tokenizer import cache_root, local_tokenizer

VERSION = "v1"
SEED = 1234
ARCH = {
    "hidden_size": 128,
    "intermediate_size": 256,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "num_key_value_heads": 1,
    "head_dim": 64,
    "max_position_embeddings": 512,
    "rope_theta": 10000.0,
    "rms_norm_eps": 1e-6,
    "tie_word_embeddings": False,
}


def build_model(seed: int = SEED):
    """The random model in memory (same seed, same weights)."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    tok = local_tokenizer()
    config = Qwen2Config(
        vocab_size=len(tok),
        bos_token_id=tok.eos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
        torch_dtype="float32",
        **ARCH,
    )
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config)
    model.generation_config.eos_token_id = tok.eos_token_id
    model.generation_config.pad_token_id = tok.pad_token_id
    return model, tok


def model_path(cache_dir: str | os.PathLike | None = None) -> Path:
    """The folder with ``config.json``, weights and tokenizer (built on first use, ~2 s)."""
    folder = Path(cache_dir) if cache_dir is not None else cache_root() / "capstone" / f"tiny-qwen2-{VERSION}"
    if (folder / "config.json").is_file() and (folder / "tokenizer.json").is_file():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        model, tok = build_model()
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        try:
            tmp.rename(folder)
        except OSError:  # a concurrent process finished first
            if not (folder / "config.json").is_file():
                shutil.rmtree(folder, ignore_errors=True)
                tmp.rename(folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder
