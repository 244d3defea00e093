"""verl on a CPU-only machine: a platform plug-in (CPU path of chapter 06 only).

verl reaches the hardware through one object, ``verl.plugin.platform.get_platform()``.
This module registers a platform named ``cpu`` that lets verl's trainer treat the CPU as
its accelerator; the launcher selects it with ``VERL_PLATFORM=cpu`` and loads this module
in every process with ``VERL_USE_EXTERNAL_MODULES=verlings.capstone.cpu_platform`` (verl
imports those modules at ``import verl``, so Ray actors and vLLM workers get it too).

* Ray schedules verl's workers on the resource named ``GPU``; Ray is started with
  ``num_gpus=1`` as a purely *logical* resource, so the one CPU "device" can be placed.
* collectives use ``gloo`` (there is no NCCL), the device is ``cpu``, memory queries are
  answered from the operating system;
* :data:`device_module` stands in for ``torch.cuda``: ``torch.cpu`` plus the calls verl
  makes (``empty_cache``, ``mem_get_info``, RNG state, ...) and a ``get_device_name`` so that
  verl's FLOPs counter finds the ``"CPU"`` entry of its table;
* vLLM's CPU backend repacks linear weights for oneDNN and drops the originals, which
  breaks verl's weight sync (it reloads weights every step): the repacking is switched off
  as soon as ``vllm.model_executor.layers.utils`` is imported.

The GPU path never loads this module.
"""

from __future__ import annotations

import contextlib
import functools
import os
from types import ModuleType
from typing import Any

import torch
import torch.distributed
from verl.plugin.platform.platform_base import PlatformBase
from verl.plugin.platform.platform_manager import PlatformRegistry

from verlings.capstone.hooks import after_import


def _total_memory() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


class _CPUDeviceModule(ModuleType):
    """``torch.cpu`` with the ``torch.cuda`` calls verl makes, as no-ops or OS answers."""

    def __getattr__(self, name: str) -> Any:
        return getattr(torch.cpu, name)

    def get_device_name(self, device: Any = None) -> str:
        return "CPU"

    def mem_get_info(self, device: Any = None) -> tuple[int, int]:
        free = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
        return free, _total_memory()

    def get_rng_state(self, device: Any = None) -> torch.Tensor:
        return torch.get_rng_state()

    def set_rng_state(self, state: torch.Tensor, device: Any = None) -> None:
        torch.set_rng_state(state)

    def manual_seed(self, seed: int) -> None:
        torch.manual_seed(seed)

    manual_seed_all = manual_seed

    def empty_cache(self) -> None:
        pass

    def ipc_collect(self) -> None:
        pass

    def set_per_process_memory_fraction(self, fraction: float, device: Any = None) -> None:
        pass

    def memory_allocated(self, device: Any = None) -> int:
        return 0

    memory_reserved = max_memory_allocated = max_memory_reserved = memory_allocated


device_module = _CPUDeviceModule("verlings_cpu_device")


@PlatformRegistry.register(platform="cpu")
class PlatformCPU(PlatformBase):
    device_name = "cpu"
    vendor_name = "cpu"
    device_module = device_module

    def is_available(self) -> bool:
        return True

    def current_device(self) -> str:  # type: ignore[override]
        # verl moves modules with .to(get_device_id()); an int would mean "accelerator 0"
        return "cpu"

    def device_count(self) -> int:
        return 1

    def set_device(self, device_index: int) -> None:
        pass

    def synchronize(self, device_index: int | None = None) -> None:
        pass

    def manual_seed(self, seed: int) -> None:
        torch.manual_seed(seed)

    def manual_seed_all(self, seed: int) -> None:
        torch.manual_seed(seed)

    def set_allocator_settings(self, settings: str) -> None:
        pass

    def empty_cache(self) -> None:
        pass

    def get_device_capability(self, device_index: int = 0) -> tuple[int | None, int | None]:
        return None, None

    def communication_backend_name(self) -> str:
        return "gloo"

    def visible_devices_envvar(self) -> str:
        return "CUDA_VISIBLE_DEVICES"  # Ray sets it for actors holding the logical "GPU"

    @contextlib.contextmanager
    def nvtx_range(self, msg: str):
        yield

    def profiler_start(self) -> None:
        pass

    def profiler_stop(self) -> None:
        pass

    def ray_resource_name(self) -> str:
        return "GPU"

    def ray_noset_envvars(self) -> list[str]:
        return ["RAY_EXPERIMENTAL_NOSET_CUDA_VISIBLE_DEVICES"]

    def is_ipc_supported(self) -> bool:
        return False

    def cudart(self) -> Any:
        return None


def _dedupe_backend(init_process_group: Any) -> Any:
    """verl asks for ``"cpu:gloo,<device>:<backend>"``; with device ``cpu`` that names cpu twice."""

    @functools.wraps(init_process_group)
    def init(*args: Any, **kwargs: Any) -> Any:
        backend = kwargs.get("backend")
        if isinstance(backend, str) and "," in backend:
            parts = dict.fromkeys(p.strip() for p in backend.split(","))
            kwargs["backend"] = ",".join(parts)
        return init_process_group(*args, **kwargs)

    return init


torch.distributed.init_process_group = _dedupe_backend(torch.distributed.init_process_group)


def _keep_plain_cpu_linear(layer: torch.nn.Module, remove_weight: bool) -> None:
    """vLLM's CPU GEMM dispatch, minus the weight repacking: use the live ``layer.weight``."""
    layer.cpu_linear = torch.nn.functional.linear


def _patch_vllm_utils(module: ModuleType) -> None:
    module.dispatch_cpu_unquantized_gemm = _keep_plain_cpu_linear


after_import("vllm.model_executor.layers.utils", _patch_vllm_utils)
