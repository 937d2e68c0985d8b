"""What a command shows: results on standard output; messages, logs, progress and refusals on
standard error, with Rich when it is a terminal and plain lines when it is not."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.logging import RichHandler
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from projections.follower import Progress as ViewProgress

QUIET_DURING_BARS = logging.WARNING
PLAIN_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"

Steps = Callable[[int, int], None]
"""Called as steps(done, total) during long work."""


class Terminal:
    """The two streams of one process; each resolves sys.stdout / sys.stderr when it writes."""

    def __init__(self) -> None:
        self.out, self.err = _consoles()

    def result(self, line: str, *, style: str | None = None) -> None:
        """A line of the command's result, on standard output: exactly as given (tabs kept for
        TSV), styled only on a terminal."""
        if style and self.out.is_terminal:
            self.out.print(Text(line, style=style))
        else:
            print(line, file=self.out.file, flush=True)

    def say(self, message: str) -> None:
        """A message about the work, on standard error."""
        self.err.print(Text(message))

    def refuse(self, reason: str) -> None:
        """The one line a refused command prints."""
        self.err.print(Text.assemble(("error: ", "bold red"), " ".join(reason.split())))

    @contextmanager
    def session(self) -> Iterator[None]:
        """For one command: consoles on the streams of the moment, and the logs routed here,
        through Rich on a terminal and as plain lines otherwise."""
        self.out, self.err = _consoles()
        handler: logging.Handler
        if self.err.is_terminal:
            handler = RichHandler(console=self.err, show_path=False, rich_tracebacks=False)
        else:
            handler = logging.StreamHandler()
            handler.setFormatter(logging.Formatter(PLAIN_LOG_FORMAT))
        root = logging.getLogger()
        level = root.level
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        try:
            yield
        finally:
            root.removeHandler(handler)
            root.setLevel(level)

    @contextmanager
    def _bar(
        self, *columns: TextColumn | BarColumn | MofNCompleteColumn, transient: bool = False
    ) -> Iterator[Progress]:
        """A progress display, shown only on a terminal; logs below WARNING wait until it ends."""
        progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            *columns,
            TimeElapsedColumn(),
            console=self.err,
            transient=transient,
            disable=not self.err.is_terminal,
        )
        root = logging.getLogger()
        level = root.level
        root.setLevel(max(level, QUIET_DURING_BARS))
        try:
            with progress:
                yield progress
        finally:
            root.setLevel(level)

    @contextmanager
    def views_progress(self) -> Iterator[ViewProgress]:
        """A bar per read model, for catch-up and rebuild: events applied of the log's head."""
        with self._bar(MofNCompleteColumn(), TextColumn("events")) as progress:
            tasks: dict[str, TaskID] = {}

            def advance(view: str, position: int, head: int) -> None:
                if view not in tasks:
                    tasks[view] = progress.add_task(view, total=head)
                progress.update(tasks[view], completed=position, total=head)

            yield advance

    @contextmanager
    def steps_progress(self, description: str) -> Iterator[Steps]:
        """One bar for work counted in steps whose total may grow as it goes."""
        with self._bar(MofNCompleteColumn(), TextColumn("steps")) as progress:
            task = progress.add_task(description, total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            yield advance
            progress.update(task, total=progress.tasks[0].completed)  # the estimate ran over

    @contextmanager
    def working(self, description: str) -> Iterator[None]:
        """A pulsing bar for work that cannot say how far it is; gone when it is done."""
        with self._bar(transient=True) as progress:
            progress.add_task(description, total=None)
            yield


def _consoles() -> tuple[Console, Console]:
    """Standard output and standard error, never wrapping lines nor reading markup in them."""
    return (
        Console(soft_wrap=True, highlight=False, markup=False),
        Console(stderr=True, soft_wrap=True, highlight=False, markup=False),
    )


screen = Terminal()
