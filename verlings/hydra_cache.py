"""Parse each of verl's Hydra config files once per grading worker, not once per composition.

Composing ``ppo_trainer`` reads about thirty YAML files, and Hydra parses every one of them again
on every ``compose`` (its own cache lives only as long as one ``initialize``): most of the
seconds a chapter 01 or 03 save spends in Hydra. :func:`install` memoises
``FileConfigSource.load_config`` by the file's real path, size and modification time and hands out
a deep copy each time (Hydra pops ``defaults`` from what it loads), so a composition sees exactly
what it would read from disk. The warm worker installs it and composes once before it forks, so
every grading run starts with the files parsed and Hydra's plug-ins discovered; Hydra's global
state is cleared again before any fork.
"""

from __future__ import annotations

import copy
import os
from typing import Any

_installed = False


def install() -> None:
    """Memoise Hydra's file config source in this process (idempotent)."""
    global _installed
    if _installed:
        return
    from hydra.core.plugins import Plugins

    # Hydra's plug-in discovery re-executes its core_plugins modules (a new FileConfigSource
    # class): discover first, then patch the class Hydra will use.
    Plugins.instance()
    from hydra._internal.core_plugins.file_config_source import FileConfigSource

    original = FileConfigSource.load_config
    memo: dict[tuple[str, int, int], Any] = {}

    def load_config(self: FileConfigSource, config_path: str) -> Any:
        full_path = os.path.realpath(os.path.join(self.path, self._normalize_file_name(config_path)))
        try:
            st = os.stat(full_path)
        except OSError:
            return original(self, config_path)  # Hydra's own error for a missing file
        key = (full_path, st.st_size, st.st_mtime_ns)
        if key not in memo:
            memo[key] = original(self, config_path)
        return copy.deepcopy(memo[key])

    FileConfigSource.load_config = load_config  # type: ignore[method-assign]
    _installed = True


def prewarm() -> None:
    """Compose verl's ``ppo_trainer`` once (fills the memo), then leave Hydra uninitialised."""
    from hydra.core.global_hydra import GlobalHydra

    from verlings import verl_config

    install()
    try:
        verl_config.compose_with_hydra([])  # Hydra itself, not the disk cache: the memo must fill
    finally:
        GlobalHydra.instance().clear()
