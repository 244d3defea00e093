"""Keep one bad tool call from stopping a training run.

A rollout runs hundreds of tool calls a step, on arguments the model made up. verl's
``ToolAgentLoop`` (and the learner's chapter-05 ``run_agent``) already turn a tool that
*raises* into an answer the model reads — ``"Error executing tool 'calculator': ..."`` — and go
on. Two failures get through that net:

* a tool that **hangs** (a stuck request, a sandbox that never returns): the trajectory, the
  agent-loop worker and with it the whole training step wait forever — verl 0.9.1 has no
  per-call timeout;
* a tool that returns **something that is not text** (``None``, a bare string or number, a
  ``ToolResponse`` with only an image): the loop puts ``""`` or garbage into the context, or
  fails on unpacking deep inside the loop.

``GuardedTool`` wraps a ``BaseTool`` instance and turns both into exceptions with a clear
message, raised from ``execute`` — exactly where a raising tool raises, so the agent loop's own
error handling writes them into the trajectory as a tool error and the rollout goes on. It
changes nothing for a tool that behaves. Limitation: a timeout cancels the coroutine at its next
``await``; a tool that blocks the event loop (``time.sleep`` in ``async def``) cannot be cut
short by any asyncio loop, verl's included — run blocking work in a thread
(``asyncio.to_thread``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from verl.tools.base_tool import BaseTool
from verl.tools.schemas import ToolResponse

DEFAULT_TIMEOUT_S = 10.0

# (tool name, kind, message) — kinds: "raised", "timeout", "not_text"
ErrorHook = Callable[[str, str, str], None]


class ToolTimeout(TimeoutError):
    """A guarded tool call ran past its time limit."""


class ToolOutputError(TypeError):
    """A guarded tool returned something other than ``(ToolResponse(text=str), reward, metrics)``."""


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_tool_result(name: str, result: Any) -> tuple[ToolResponse, float, dict]:
    """``result`` if it is what ``BaseTool.execute`` promises and carries text, else ``ToolOutputError``."""
    if not (isinstance(result, tuple) and len(result) == 3):
        raise ToolOutputError(
            f"tool {name!r} returned {_describe(result)}; execute must return (ToolResponse(text=...), reward, metrics)"
        )
    response, reward, metrics = result
    if not isinstance(response, ToolResponse):
        raise ToolOutputError(f"tool {name!r} returned {_describe(response)} where a ToolResponse belongs")
    if not isinstance(response.text, str):
        media = [k for k in ("image", "video") if getattr(response, k)]
        extra = f" (only {' and '.join(media)})" if media else ""
        raise ToolOutputError(f"tool {name!r} returned a ToolResponse without text{extra}: the model reads text only")
    if isinstance(reward, bool) or not isinstance(reward, int | float):
        raise ToolOutputError(f"tool {name!r} returned the step reward {_describe(reward)}, not a number")
    return response, float(reward), metrics if isinstance(metrics, dict) else {}


class GuardedTool(BaseTool):
    """A ``BaseTool`` that delegates to ``inner`` with a time limit and a check of what comes back.

    ``execute`` raises ``ToolTimeout`` after ``timeout_s`` and ``ToolOutputError`` on a result that
    is not ``(ToolResponse(text=str), number, dict)``; an exception of the tool itself passes
    through unchanged. ``create`` and ``release`` get the same time limit (a hang there would stop
    the rollout too); ``calc_reward`` failing or hanging scores 0.0 — the trajectory keeps its
    other rewards. Every failure is reported to ``on_error(name, kind, message)`` when given.
    """

    def __init__(self, inner: BaseTool, *, timeout_s: float = DEFAULT_TIMEOUT_S, on_error: ErrorHook | None = None):
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
        # Not BaseTool.__init__: it would print the schema again; the inner tool already built it.
        self.inner = inner
        self.config = inner.config
        self.tool_schema = inner.tool_schema
        self.name = inner.name
        self.timeout_s = float(timeout_s)
        self.on_error = on_error

    def _report(self, kind: str, message: str) -> None:
        if self.on_error is not None:
            self.on_error(self.name, kind, message)

    async def _limited(self, what: str, coro: Any) -> Any:
        try:
            return await asyncio.wait_for(coro, timeout=self.timeout_s)
        except TimeoutError:
            message = f"{what} of tool {self.name!r} timed out after {self.timeout_s:g} s"
            self._report("timeout", message)
            raise ToolTimeout(message) from None

    def get_openai_tool_schema(self) -> Any:
        return self.inner.get_openai_tool_schema()

    async def create(self, instance_id: str | None = None, **kwargs: Any) -> tuple[str, ToolResponse]:
        return await self._limited("create", self.inner.create(instance_id, **kwargs))

    async def execute(
        self, instance_id: str, parameters: dict[str, Any], **kwargs: Any
    ) -> tuple[ToolResponse, float, dict]:
        try:
            result = await self._limited("the call", self.inner.execute(instance_id, parameters, **kwargs))
        except ToolTimeout:
            raise
        except Exception as exc:
            self._report("raised", f"{type(exc).__name__}: {exc}")
            raise
        try:
            return check_tool_result(self.name, result)
        except ToolOutputError as exc:
            self._report("not_text", str(exc))
            raise

    async def calc_reward(self, instance_id: str, **kwargs: Any) -> float:
        try:
            reward = await self._limited("calc_reward", self.inner.calc_reward(instance_id, **kwargs))
        except ToolTimeout:
            return 0.0
        except Exception as exc:
            self._report("raised", f"calc_reward: {type(exc).__name__}: {exc}")
            return 0.0
        if isinstance(reward, bool) or not isinstance(reward, int | float):
            self._report("not_text", f"calc_reward of tool {self.name!r} returned {_describe(reward)}, not a number")
            return 0.0
        return float(reward)

    async def release(self, instance_id: str, **kwargs: Any) -> None:
        await self._limited("release", self.inner.release(instance_id, **kwargs))


def guard_tools(
    tools: Sequence[BaseTool], *, timeout_s: float = DEFAULT_TIMEOUT_S, on_error: ErrorHook | None = None
) -> list[BaseTool]:
    """Each tool wrapped in a ``GuardedTool`` (one already guarded is kept as it is)."""
    return [t if isinstance(t, GuardedTool) else GuardedTool(t, timeout_s=timeout_s, on_error=on_error) for t in tools]
