"""A build with a progress display: what ``akhbar-index build``/``update`` and the bot's console run.

On a terminal each stage is a rich progress bar with its rate; off a terminal (nohup, CI,
systemd) the builder also logs a line every 30 s (:func:`index.build.progress.with_heartbeat`).
The engine in use is named before the build starts.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from corpus import ChunkerSettings
from index.build.builder import BuildReport, build_index
from index.embedding import describe_engine, load_embedder
from index.embedding.base import Embedder
from index.embedding.cache import open_cache
from index.settings import IndexSettings
from index.stores import open_store


class RichProgress:
    """Shows each build stage as a progress bar with items per second."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task: TaskID | None = None

    def start(self, stage: str, total: int | None, unit: str) -> None:
        """Open a bar for the stage."""
        self._task = self._progress.add_task(f"{stage} ({unit})", total=total)

    def advance(self, amount: int = 1) -> None:
        """Move the current bar."""
        if self._task is not None:
            self._progress.advance(self._task, amount)

    def finish(self) -> None:
        """Complete the current bar."""
        if self._task is not None:
            task = self._progress.tasks[-1]
            self._progress.update(self._task, total=task.completed, completed=task.completed)
            self._task = None


class RateColumn(ProgressColumn):
    """Items per second of a stage (articles/s while reading, chunks/s while embedding)."""

    def render(self, task: Task) -> Text:
        """Format the task's current speed."""
        return Text(f"{task.speed:.1f}/s" if task.speed else "", style="cyan")


def progress_bar(console: Console) -> Progress:
    """The build's progress display on ``console``: a bar per stage with its rate and elapsed time."""
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), RateColumn(),
                    TimeElapsedColumn(), console=console, transient=False)


def run_build(settings: IndexSettings, sources: list[Path], incremental: bool, wait: bool,
              add_only: bool = False, console: Console | None = None,
              embedder: Embedder | None = None) -> BuildReport:
    """Load the model and build or update with a progress bar; shared by ``akhbar-index`` and the bot's console.

    ``add_only`` keeps every article of the current build (an update from feeds, see :mod:`index.build.feeds`).
    ``embedder``: a model already loaded by the caller (which searches the build next), else it is loaded here.
    """
    console = console or Console(stderr=True, soft_wrap=True)
    owned = embedder is None  # nothing searches with a model loaded here: free its working memory after embedding
    if embedder is None:
        console.print(f"loading model {settings.embedding_model} ({settings.embedding_backend}) …")
        embedder = load_embedder(settings.embedding_model, settings.cache_dir, settings.embed_batch_size,
                                 settings.embedding_backend)
    console.print(describe_engine(embedder), highlight=False)
    cache = open_cache(settings, embedder)
    try:
        with progress_bar(console) as bar:
            return build_index(sources, settings.index_dir, embedder,
                               ChunkerSettings(settings.chunk_tokens, settings.chunk_overlap_tokens),
                               incremental=incremental, progress=RichProgress(bar), wait=wait,
                               build_threads=settings.build_threads, cache=cache, vector_index=settings.vector_index,
                               add_only=add_only, store=open_store(settings), release_model=owned)
    finally:
        if cache is not None:
            cache.close()
