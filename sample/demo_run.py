"""The state one ``mujun demo`` invocation hands to each of its stages.

A module of its own below the runner (:mod:`sample.demo`) and the stages
(:mod:`sample.stages`), which both use it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

    from gis.settings import Settings
    from sample.generate import SampleCity


@dataclass
class DemoRun:
    """State shared by the demo stages of one invocation."""

    size: str
    seed: int
    root: Path
    load: bool = True
    connect: Callable[[], psycopg.Connection] | None = None
    settings: Settings | None = None
    progress_bar: Callable[..., Any] | None = None
    extract_method: str = "ndsm"  # the extract stage: heights, or "onnx" (a model trained on the sample)
    city: SampleCity | None = None
    generated: bool = False
    results: dict[str, dict] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def conn(self) -> psycopg.Connection:
        """The invocation's database connection (opened on first use)."""
        if self.connect is None:
            raise RuntimeError("this demo run has no database connection")
        return self.connect()

    def bar(self, total: int | None, desc: str, unit: str = "it"):
        """A progress context yielding a callback (no-op without a bar factory)."""
        if self.progress_bar is None:
            from gis.progress import progress_bar

            return progress_bar(total, desc, unit, enabled=False)
        return self.progress_bar(total, desc, unit)
