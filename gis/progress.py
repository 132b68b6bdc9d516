"""Progress reporting without coupling library code to a terminal.

Library functions accept an optional ``progress`` callable and call it with the
number of units just finished; a callable may also have a ``note(text)`` method that
shows a short figure next to the bar (:func:`note`), e.g. a validation score. Only the CLI turns that into a bar
(:func:`progress_bar`), and only when stderr is a terminal: pipes and logs stay quiet.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

#: Signature of a progress callback: advance by ``n`` units.
Progress = Callable[[int], None]


def no_progress(n: int) -> None:
    """A progress callback that does nothing."""


def note(progress: Progress | None, text: str) -> None:
    """Show ``text`` next to the bar of ``progress`` when it has one (else nothing)."""
    show = getattr(progress, "note", None)
    if show is not None:
        show(text)


class _Bar:
    """A tqdm bar as a progress callback with :func:`note`."""

    def __init__(self, bar) -> None:
        self._bar = bar

    def __call__(self, n: int) -> None:
        self._bar.update(n)

    def note(self, text: str) -> None:
        self._bar.set_postfix_str(text, refresh=True)


@contextmanager
def progress_bar(
    total: int | None, desc: str, unit: str = "it", enabled: bool = True
) -> Iterator[Progress]:
    """Yield a progress callback drawing a tqdm bar on a terminal's stderr.

    Parameters
    ----------
    total : int or None
        Units expected, when known.
    desc : str
        Label shown before the bar.
    unit : str
        Name of one unit (``"feature"``, ``"tile"``).
    enabled : bool
        Turn the bar off regardless of the terminal (the ``progress`` setting).
    """
    if not (enabled and sys.stderr.isatty()):
        yield no_progress
        return
    from tqdm import tqdm

    with tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=False) as bar:
        yield _Bar(bar)
