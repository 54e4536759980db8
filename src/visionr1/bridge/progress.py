"""The live display: one row per stage with done / failed / in flight, tokens, rate and ETA."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any, Callable

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from visionr1.bridge.pipeline import STAGES, RunState


def rich_progress(console: Console | None = None, refresh: float = 0.25) -> Callable[[RunState], Any]:
    """A ``progress`` argument for :func:`~visionr1.bridge.run.run_bridge` (call inside the event loop)."""

    @contextlib.contextmanager
    def display(state: RunState) -> Iterator[None]:
        progress = Progress(
            TextColumn("{task.description:<12}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("[red]failed {task.fields[failed]}[/] in flight {task.fields[inflight]:>3}"),
            TextColumn("{task.fields[tokens]:>9} tok"),
            TextColumn("{task.fields[rate]:>7}/s"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        names = ("filters",) if state.teacher == "template" else (*STAGES, "filters")
        ids = {s: progress.add_task(s, total=1, failed=0, inflight=0, tokens=0, rate="-") for s in names}

        def update() -> None:
            import time

            dt = max(1e-6, time.time() - state.started)
            for s in names:
                c = state.stages[s]
                finished = c.done + c.failed
                progress.update(ids[s], total=max(1, c.total), completed=finished, failed=c.failed, inflight=c.in_flight,
                                tokens=c.prompt_tokens + c.completion_tokens, rate=f"{finished / dt:.1f}")

        async def tick() -> None:
            while True:
                update()
                await asyncio.sleep(refresh)

        task = asyncio.get_running_loop().create_task(tick())
        with progress:
            try:
                yield
            finally:
                task.cancel()
                update()

    return display
