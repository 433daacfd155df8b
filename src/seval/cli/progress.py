"""Progress bars with counts, rate and ETA on stderr (quiet when stderr is not a terminal)."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class RichProgress:
    def __init__(self, console: Console) -> None:
        self.console = console
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._errors = 0

    def start(self, label: str, total: int, completed: int = 0) -> None:
        self._errors = 0
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TextColumn("[red]{task.fields[errors]}"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=self.console,
            transient=False,
        )
        self._task = self._progress.add_task(label, total=total, completed=completed, rate="", errors="")
        self._progress.start()

    def advance(self, n: int = 1, *, error: bool = False) -> None:
        if self._progress is None or self._task is None:
            return
        if error:
            self._errors += n
        task = self._progress.tasks[0]
        speed = task.speed
        self._progress.update(
            self._task,
            advance=n,
            rate=f"{speed:.1f}/s" if speed else "",
            errors=f"{self._errors} errors" if self._errors else "",
        )

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
        self._progress = None
        self._task = None
