"""``akhbar-index``: build, update, search, inspect and evaluate an index from the command line.

A thin layer over the Python API (:func:`index.build_index`, :class:`index.Retriever`,
:mod:`index.evaluate`): it parses options, shows progress and prints results. Exit codes:
0 done, 1 a clear error (one line), 2 bad usage.

Example:
    akhbar-index build corpus/sample ../shared/data/news/ant_multisource.sample300.jsonl
    akhbar-index search "ماذا وعد كيم جونغ أون الجيش الروسي؟" -k 3
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from corpus import ChunkerSettings
from index.builder import BuildReport, build_index
from index.embedcache import open_cache
from index.embedding import load_embedder
from index.errors import AkhbarIndexError, BadQuery
from index.retriever import Retriever
from index.settings import IndexSettings, SearchMode
from index.store import current_build_id

app = typer.Typer(help="Build and query Akhbar's Arabic news index.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
console = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)

IndexOption = Annotated[Path | None, typer.Option("--index", "-i", help="Index directory (env: INDEX_DIR).")]
ModelOption = Annotated[str | None, typer.Option("--model", help="Embedding model name or folder (env: EMBEDDING_MODEL).")]


class RichProgress:
    """Shows each build stage as a progress bar with items per second."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task: int | None = None

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


def _progress_bar() -> Progress:
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), RateColumn(),
                    TimeElapsedColumn(), console=console, transient=False)


def _settings(index: Path | None = None, model: str | None = None, mode: SearchMode | None = None) -> IndexSettings:
    """Environment/.env settings with command-line flags on top."""
    settings = IndexSettings()
    updates: dict[str, object] = {}
    if index is not None:
        updates["index_dir"] = index
    if model is not None:
        updates["embedding_model"] = model
    if mode is not None:
        updates["search_mode"] = mode
    return settings.model_copy(update=updates)


def _fail(message: str, code: int = 1) -> typer.Exit:
    # Escaped: paths and reasons are user data, and "[x]" in them is rich markup (or a MarkupError).
    console.print(f"[red]error:[/red] {escape(message)}", highlight=False)
    return typer.Exit(code)


def _build_failed(error: OSError, index_dir: Path, before: str | None) -> typer.Exit:
    """A build or update that failed on the file system (disk full, permissions): why, and what serves now."""
    reason = f"{error.strerror}: {error.filename}" if error.strerror and error.filename else str(error)
    after = current_build_id(index_dir)
    if after != before:
        state = f"the index now serves build {Path(after).name}" if after else "the index was removed"
    elif before is None:
        state = "no index was written"
    else:
        state = "the previous index is still current"
    return _fail(f"build failed, {state}: {reason or type(error).__name__}")


def run_build(settings: IndexSettings, sources: list[Path], incremental: bool, wait: bool) -> BuildReport:
    """Load the model and build or update with a progress bar; shared by ``build`` and the bot."""
    console.print(f"loading model {settings.embedding_model} ({settings.embedding_backend}) …")
    embedder = load_embedder(settings.embedding_model, settings.cache_dir, settings.embed_batch_size,
                             settings.embedding_backend)
    cache = open_cache(settings, embedder)
    try:
        with _progress_bar() as bar:
            return build_index(sources, settings.index_dir, embedder,
                               ChunkerSettings(settings.chunk_tokens, settings.chunk_overlap_tokens),
                               incremental=incremental, progress=RichProgress(bar), wait=wait,
                               build_threads=settings.build_threads, cache=cache, vector_index=settings.vector_index)
    finally:
        if cache is not None:
            cache.close()


def _print_summary(report: BuildReport, verb: str) -> None:
    total = sum(report.seconds.values()) or 1e-9
    console.print(f"[green]{verb}[/green] {report.build_dir}: {report.articles} articles, {report.chunks} chunks "
                  f"({report.embedded_chunks} embedded, {report.cached_chunks} from the embedding cache, "
                  f"{report.reused_chunks} reused) in {total:.1f} s "
                  f"({report.chunks / total:.1f} chunks/s; " +
                  ", ".join(f"{stage} {seconds:.1f} s" for stage, seconds in report.seconds.items()) + ")")
    if report.repaired:
        console.print(f"[yellow]repaired {len(report.repaired)} record(s):[/yellow]")
        for item in report.repaired[:20]:
            console.print(f"  {escape(item.path)}: {escape(item.reason)}", highlight=False)
    if report.skipped:
        console.print(f"[yellow]skipped {len(report.skipped)} file(s) or record(s):[/yellow]")
        for item in report.skipped[:20]:
            console.print(f"  {escape(item.path)}: {escape(item.reason)}", highlight=False)
        if len(report.skipped) > 20:
            console.print(f"  … and {len(report.skipped) - 20} more")


def _build_and_report(settings: IndexSettings, sources: list[Path], incremental: bool, wait: bool) -> None:
    """Run a build or update and print its summary, or a one-line reason and exit 1."""
    before = current_build_id(settings.index_dir)
    try:
        report = run_build(settings, sources, incremental=incremental, wait=wait)
    except AkhbarIndexError as error:
        raise _fail(str(error)) from None
    except OSError as error:
        raise _build_failed(error, settings.index_dir, before) from None
    _print_summary(report, "updated" if incremental else "built")


@app.command()
def build(
    sources: Annotated[list[Path], typer.Argument(help="Files or folders: .txt pages, .jsonl, .csv, .html (mixed, recursive).")],
    index: IndexOption = None,
    model: ModelOption = None,
    wait: Annotated[bool, typer.Option(help="Wait for a running build instead of failing.")] = False,
) -> None:
    """Build a new index from SOURCES and switch to it atomically (the old one serves until then).

    Example: akhbar-index build corpus/sample ../shared/data/news/ant_multisource.sample300.jsonl
    """
    _build_and_report(_settings(index, model), sources, incremental=False, wait=wait)


@app.command()
def update(
    sources: Annotated[list[Path], typer.Argument(help="The full, current corpus: files or folders.")],
    index: IndexOption = None,
    model: ModelOption = None,
    wait: Annotated[bool, typer.Option(help="Wait for a running build instead of failing.")] = False,
) -> None:
    """Bring the index in line with SOURCES, embedding only new or changed articles.

    Articles missing from SOURCES are dropped; the result answers exactly like a full rebuild.

    Example: akhbar-index update corpus/ --index data/index
    """
    _build_and_report(_settings(index, model), sources, incremental=True, wait=wait)


def _parse_day(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date like 2018-03-15", param_hint=name) from None


@app.command()
def search(
    question: Annotated[str, typer.Argument(help="The question, in Arabic.")],
    k: Annotated[int, typer.Option("-k", min=1, max=100, help="Number of passages (different articles).")] = 5,
    source: Annotated[list[str] | None, typer.Option("--source", help="Only this outlet (repeatable).")] = None,
    since: Annotated[str | None, typer.Option(help="Only articles from this day on (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, typer.Option(help="Only articles up to this day (YYYY-MM-DD).")] = None,
    mode: Annotated[SearchMode | None, typer.Option(help="dense, lexical or hybrid (env: SEARCH_MODE).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per passage.")] = False,
    index: IndexOption = None,
    model: ModelOption = None,
) -> None:
    """Search the index and print the ranked passages with their quotes.

    Example: akhbar-index search "ماذا وعد كيم جونغ أون الجيش الروسي؟" -k 3
    """
    settings = _settings(index, model, mode)
    since_day, until_day = _parse_day(since, "--since"), _parse_day(until, "--until")
    try:
        retriever = Retriever.open(settings.index_dir, settings=settings)
        passages = retriever.search(question, k=k, sources=source, since=since_day, until=until_day)
    except (AkhbarIndexError, BadQuery) as error:
        raise _fail(str(error)) from None
    if not passages:
        console.print("no passage found")
        return
    for rank, passage in enumerate(passages, start=1):
        article = passage.article
        if as_json:
            out.print_json(json.dumps({
                "rank": rank, "score": passage.score, "article_id": article.id, "title": article.title,
                "date": article.date.isoformat() if article.date else None, "source": article.source,
                "url": article.url, "start": passage.chunk.start, "end": passage.chunk.end,
                "quote": passage.quote.text, "passage": passage.chunk.text}, ensure_ascii=False))
            continue
        meta = " · ".join(x for x in (article.source, article.date.date().isoformat() if article.date else "") if x)
        out.print(f"[bold]{rank}. {article.title}[/bold]  [dim]({meta}; score {passage.score:.3f})[/dim]",
                  highlight=False)
        if article.url:
            out.print(f"   [dim]{article.url}[/dim]", highlight=False)
        out.print(f"   «{passage.quote.text}»", highlight=False)
        out.print()


@app.command()
def info(index: IndexOption = None) -> None:
    """Show what the index holds: model, counts, sources, date range, build time."""
    settings = _settings(index)
    try:
        retriever = Retriever.open(settings.index_dir, settings=settings, verify=True)
    except AkhbarIndexError as error:
        raise _fail(str(error)) from None
    table = Table(show_header=False, box=None)
    for key, value in retriever.manifest.summary().items():
        if key != "files":
            table.add_row(key, str(value))
    table.add_row("build directory", str(retriever.build_dir))
    table.add_row("sources", ", ".join(f"{name or '(none)'} ({count})" for name, count in retriever.metadata.sources()))
    out.print(table)


@app.command("eval")
def evaluate_command(
    passages: Annotated[Path | None, typer.Option(help="QA passages JSONL: {pid, title, text}.")] = None,
    questions: Annotated[Path | None, typer.Option(help="QA questions JSONL: {qid, question, answers, pid}.")] = None,
    articles: Annotated[Path | None, typer.Option(help="Articles JSONL for the headline task.")] = None,
    headlines: Annotated[Path | None, typer.Option(help="Headline queries JSONL: {qid, query, article_id}.")] = None,
    mode: Annotated[list[str] | None, typer.Option(help="dense, lexical, hybrid (repeatable; default: all three).")] = None,
    limit: Annotated[int | None, typer.Option(help="Ask only the first N questions.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print results as JSON.")] = False,
    model: ModelOption = None,
) -> None:
    """Score retrieval on a labelled set: Recall@1/5/10, MRR@10, nDCG@10, answer-in-quote, queries/s.

    Builds a temporary index with the serving settings. Examples:
      akhbar-index eval --passages ../shared/data/qa/xquad_ar.passages.jsonl --questions ../shared/data/qa/xquad_ar.questions.jsonl
      akhbar-index eval --articles ../shared/data/news/ant_multisource.sample300.jsonl --headlines ../shared/data/news/ant_multisource.sample300.headlines.jsonl
    """
    from index.evaluate import evaluate, load_headline_set, load_qa_set

    if passages and questions:
        items = load_qa_set(passages, questions)
    elif articles and headlines:
        items = load_headline_set(articles, headlines)
    else:
        raise typer.BadParameter("give --passages and --questions, or --articles and --headlines")
    modes = mode or ["dense", "lexical", "hybrid"]
    for name in modes:
        if name not in ("dense", "lexical", "hybrid"):
            raise typer.BadParameter(f"unknown mode {name!r}", param_hint="--mode")
    settings = _settings(model=model)
    embedder = load_embedder(settings.embedding_model, settings.cache_dir, settings.embed_batch_size,
                             settings.embedding_backend)
    with _progress_bar() as bar:
        results = evaluate(items[0], items[1][:limit], embedder, settings, modes, RichProgress(bar))  # type: ignore[arg-type]
    if as_json:
        print(json.dumps([r.as_dict() for r in results], indent=1))
        return
    table = Table("mode", "R@1", "R@5", "R@10", "MRR@10", "nDCG@10", "ans@1", "ans@3", "quote chars", "q/s")
    for r in results:
        fmt = (lambda v: "—" if v is None else f"{v:.3f}")
        table.add_row(r.mode, fmt(r.recall_at_1), fmt(r.recall_at_5), fmt(r.recall_at_10), fmt(r.mrr_at_10),
                      fmt(r.ndcg_at_10), fmt(r.answer_in_quote_at_1), fmt(r.answer_in_quote_at_3),
                      "—" if r.mean_quote_chars is None else f"{r.mean_quote_chars:.0f}",
                      f"{r.queries_per_second:.1f}")
    out.print(table)


def configure_logging() -> None:
    """Warnings to stderr; silence libraries' info chatter and progress bars; never touch the network."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("transformers", "sentence_transformers", "httpx", "faiss", "bm25s"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()


def main() -> None:
    """Entry point of ``akhbar-index``: logging to stderr, quiet libraries."""
    configure_logging()
    try:
        app()
    except KeyboardInterrupt:
        console.print("interrupted: the previous index is still current")
        sys.exit(130)


if __name__ == "__main__":
    main()
