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
import sqlite3
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, cast

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from index.build.builder import BuildReport
from index.build.run import RichProgress, progress_bar, run_build
from index.embedding import describe_engine, engine_summary, load_embedder, recalibrate
from index.errors import AkhbarIndexError, BadQuery
from index.runtime import configure_logging
from index.search.retriever import Retriever
from index.settings import IndexSettings, SearchMode, VectorStoreKind
from index.stores import IndexStore, open_store

if TYPE_CHECKING:  # imported where used: the feed libraries load only for --feeds
    from index.build.feeds import IndexedArticles

app = typer.Typer(help="Build and query Akhbar's Arabic news index.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
console = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)

IndexOption = Annotated[Path | None, typer.Option("--index", "-i", help="Index directory (env: INDEX_DIR).")]
ModelOption = Annotated[str | None, typer.Option("--model",
                                                 help="Embedding model name or folder (env: EMBEDDING_MODEL).")]


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


def _build_failed(error: OSError, store: IndexStore, before: str | None) -> typer.Exit:
    """A build or update that failed on the file system (disk full, permissions): why, and what serves now."""
    reason = f"{error.strerror}: {error.filename}" if error.strerror and error.filename else str(error)
    after = store.current_build_id()
    if after != before:
        state = f"the index now serves build {Path(after).name}" if after else "the index was removed"
    elif before is None:
        state = "no index was written"
    else:
        state = "the previous index is still current"
    return _fail(f"build failed, {state}: {reason or type(error).__name__}")


def _print_summary(report: BuildReport, verb: str) -> None:
    total = sum(report.seconds.values()) or 1e-9
    console.print(f"[green]{verb}[/green] {report.build_dir}: {report.articles} articles, {report.chunks} chunks "
                  f"({report.embedded_chunks} embedded, {report.cached_chunks} from the embedding cache, "
                  f"{report.reused_chunks} reused) in {total:.1f} s "
                  f"({report.chunks / total:.1f} chunks/s; " +
                  ", ".join(f"{stage} {seconds:.1f} s" for stage, seconds in report.seconds.items()) + ")")
    if report.repaired:
        console.print(f"[yellow]repaired {len(report.repaired)} record(s):[/yellow]")
        for repair in report.repaired[:20]:
            console.print(f"  {escape(repair.path)}: {escape(repair.reason)}", highlight=False)
        if len(report.repaired) > 20:
            console.print(f"  … and {len(report.repaired) - 20} more")
    if report.skipped:
        console.print(f"[yellow]skipped {len(report.skipped)} file(s) or record(s):[/yellow]")
        for item in report.skipped[:20]:
            console.print(f"  {escape(item.path)}: {escape(item.reason)}", highlight=False)
        if len(report.skipped) > 20:
            console.print(f"  … and {len(report.skipped) - 20} more")


def _build_and_report(settings: IndexSettings, sources: list[Path], incremental: bool, wait: bool,
                      add_only: bool = False) -> None:
    """Run a build or update and print its summary, or a one-line reason and exit 1."""
    before = open_store(settings).current_build_id()
    try:
        report = run_build(settings, sources, incremental=incremental, wait=wait, add_only=add_only)
    except AkhbarIndexError as error:
        raise _fail(str(error)) from None
    except OSError as error:
        raise _build_failed(error, open_store(settings), before) from None
    _print_summary(report, "updated" if incremental else "built")


FeedsOption = Annotated[Path | None, typer.Option(
    "--feeds", help="File of RSS/Atom feed URLs, one a line (# starts a comment). Their new items' pages are fetched "
                    "first (politely: FEED_DELAY_SECONDS between requests to a host, FEED_TIMEOUT, "
                    "FEED_MAX_PAGE_BYTES), their articles kept in INDEX_DIR/feeds/ and indexed too. Items seen "
                    "before (same URL or same text) are not fetched or added again.")]


def _indexed(settings: IndexSettings) -> IndexedArticles:
    """What the configured index holds, read once for a whole feed run (and its pending count)."""
    from index.build.feeds import IndexedArticles

    return IndexedArticles(open_store(settings))


def _fetch_feeds(settings: IndexSettings, feeds: Path, indexed: IndexedArticles) -> None:
    """Run the feeds once into ``INDEX_DIR/feeds/``, print what came of it; exit 1 on a bad feed list."""
    from corpus.feeds import BadFeedList, read_feed_list
    from corpus.feeds.fetch import public_url
    from index.build.feeds import fetch_feeds, fetch_settings

    try:
        urls = read_feed_list(feeds)
    except BadFeedList as error:
        raise _fail(str(error)) from None
    console.print(f"fetching {len(urls)} feed(s) …")
    try:
        report = fetch_feeds(urls, settings.index_dir, fetch_settings(settings), indexed,
                             max_items=settings.feed_max_items)
    except AkhbarIndexError as error:
        raise _fail(str(error)) from None
    except (OSError, sqlite3.Error) as error:
        raise _fail(f"the feed run could not be saved in {settings.index_dir}: {error}; the index is "
                    f"unchanged") from None
    console.print(f"[green]feeds[/green]: {escape(report.summary())}", highlight=False)
    for failure in report.failures[:20]:
        # public_url: a feed URL may carry a user name, password or API key; never print them.
        console.print(f"  [yellow]failed[/yellow] {escape(public_url(failure.url))}: {escape(failure.reason)}",
                      highlight=False)
    if len(report.failures) > 20:
        console.print(f"  … and {len(report.failures) - 20} more")


def _with_feed_articles(settings: IndexSettings, sources: list[Path]) -> list[Path]:
    from index.build.feeds import feed_articles_dir

    folder = feed_articles_dir(settings.index_dir)
    return [*sources, folder] if folder.is_dir() else sources


def _sources_or_feeds(sources: list[Path] | None, feeds: Path | None) -> list[Path]:
    if not sources and feeds is None:
        raise typer.BadParameter("give SOURCES (files or folders), --feeds FEEDS_FILE, or both", param_hint="SOURCES")
    return list(sources or [])


@app.command()
def build(
    sources: Annotated[list[Path] | None, typer.Argument(
        help="Files or folders: .txt pages, .jsonl, .csv, saved .html pages (mixed, recursive).")] = None,
    feeds: FeedsOption = None,
    index: IndexOption = None,
    model: ModelOption = None,
    wait: Annotated[bool, typer.Option(help="Wait for a running build instead of failing.")] = False,
) -> None:
    """Build a new index from SOURCES (and --feeds) and switch to it atomically (the old one serves until then).

    With --feeds, the feeds' new articles are fetched first, and every article fetched from feeds so far
    (INDEX_DIR/feeds/) is part of the new index.

    Example: akhbar-index build corpus/sample ../shared/data/news/ant_multisource.sample300.jsonl
    """
    settings = _settings(index, model)
    paths = _sources_or_feeds(sources, feeds)
    if feeds is not None:
        _fetch_feeds(settings, feeds, _indexed(settings))
        paths = _with_feed_articles(settings, paths)
    _build_and_report(settings, paths, incremental=False, wait=wait)


@app.command()
def update(
    sources: Annotated[list[Path] | None, typer.Argument(
        help="The full, current corpus: files or folders (optional with --feeds).")] = None,
    feeds: FeedsOption = None,
    index: IndexOption = None,
    model: ModelOption = None,
    wait: Annotated[bool, typer.Option(help="Wait for a running build instead of failing.")] = False,
) -> None:
    """Bring the index in line with SOURCES, embedding only new or changed articles.

    Articles missing from SOURCES are dropped; the result answers exactly like a full rebuild.
    With --feeds alone, nothing is dropped: the feeds' new articles are added to the current index
    (and nothing is written when there is nothing new). With SOURCES and --feeds, the corpus is
    SOURCES plus every article fetched from feeds so far.

    Examples:
      akhbar-index update corpus/ --index data/index
      akhbar-index update --feeds feeds.txt
    """
    settings = _settings(index, model)
    paths = _sources_or_feeds(sources, feeds)
    if feeds is None:
        _build_and_report(settings, paths, incremental=True, wait=wait)
        return
    indexed = _indexed(settings)
    _fetch_feeds(settings, feeds, indexed)
    if paths:
        _build_and_report(settings, _with_feed_articles(settings, paths), incremental=True, wait=wait)
        return
    from index.build.feeds import feed_articles_dir, pending_articles

    if not pending_articles(settings.index_dir, indexed):
        console.print("nothing new to index: the index is unchanged")
        return
    _build_and_report(settings, [feed_articles_dir(settings.index_dir)], incremental=True, wait=wait, add_only=True)


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
    raw: Annotated[bool, typer.Option("--raw", help="Search the words as typed: no time words, no recency, "
                                                    "no no-answer decision.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per passage.")] = False,
    index: IndexOption = None,
    model: ModelOption = None,
) -> None:
    """Answer a question from the index as the bot would, printing the ranked passages with their quotes.

    Time words ("الأسبوع الماضي", "في مارس 2018") search that period of the archive, "آخر أخبار …"
    shows the newest first, and a question the archive cannot answer says so. --since/--until (or
    --raw) search exactly what you give instead.

    Example: akhbar-index search "ماذا وعد كيم جونغ أون الجيش الروسي؟" -k 3
    """
    settings = _settings(index, model, mode)
    since_day, until_day = _parse_day(since, "--since"), _parse_day(until, "--until")
    planned = not raw and since_day is None and until_day is None
    try:
        retriever = Retriever.open(settings.index_dir, settings=settings)
        if planned:
            answer = retriever.ask(question, k=k, sources=source)
            passages = list(answer.passages)
        else:
            passages = retriever.search(question, k=k, sources=source, since=since_day, until=until_day)
    except (AkhbarIndexError, BadQuery) as error:
        raise _fail(str(error)) from None
    if planned:
        if answer.plan.period is not None:
            emptiness = " (no article in that period: searched all of them)" if answer.period_empty else ""
            console.print(f"period: {escape(answer.plan.period.label)}{emptiness}", highlight=False)
        if passages and not answer.answered:
            console.print(f"no answer: the best passage's relevance {passages[0].relevance:.3f} is under the "
                          f"no-answer threshold {retriever.no_answer_threshold:g} (--raw shows what was found)")
            passages = []
    if not passages:
        console.print("no passage found")
        return
    for rank, passage in enumerate(passages, start=1):
        article = passage.article
        if as_json:
            record = {"rank": rank, **passage.as_record(), "passage": passage.chunk.text}
            out.print_json(json.dumps(record, ensure_ascii=False))
            continue
        meta = " · ".join(x for x in (article.source, article.date.date().isoformat() if article.date else "") if x)
        out.print(f"[bold]{rank}. {escape(article.title)}[/bold]  [dim]({escape(meta)}; score {passage.score:.3f})"
                  f"[/dim]", highlight=False)
        if article.url:
            out.print(f"   [dim]{escape(article.url)}[/dim]", highlight=False)
        out.print(f"   «{escape(passage.quote.text)}»", highlight=False)
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
    table.add_row("build", retriever.build_id)
    table.add_row("engine", describe_engine(retriever.embedder))
    table.add_row("engine here", engine_summary(retriever.manifest.model_id, settings.cache_dir,
                                                settings.embedding_backend))
    table.add_row("store", open_store(settings).description)
    table.add_row("sources", ", ".join(f"{name or '(none)'} ({count})" for name, count in retriever.metadata.sources()))
    out.print(table)


@app.command()
def migrate(
    to: Annotated[VectorStoreKind, typer.Option("--to", help="The store to copy the current index into.")],
    index: IndexOption = None,
    wait: Annotated[bool, typer.Option(help="Wait for a running build of the target instead of failing.")] = False,
) -> None:
    """Copy the current index into another store (faiss or milvus) without embedding anything again.

    The source is the other store as configured (INDEX_DIR for faiss; MILVUS_URI and
    MILVUS_COLLECTION for milvus); the copy becomes the target's current build. Then set
    VECTOR_STORE to the target.

    Example: MILVUS_URI=http://milvus:19530 akhbar-index migrate --to milvus --index data/index
    """
    from index.build.migrate import migrate as copy_index

    settings = _settings(index)
    source = open_store(settings.model_copy(update={"vector_store": "faiss" if to == "milvus" else "milvus"}))
    target = open_store(settings.model_copy(update={"vector_store": to}))
    try:
        with progress_bar(console) as bar:
            location = copy_index(source, target, wait=wait, progress=RichProgress(bar))
    except AkhbarIndexError as error:
        raise _fail(str(error)) from None
    except OSError as error:
        raise _fail(f"migration failed, the target's previous index is still current: {error}") from None
    console.print(f"[green]migrated[/green] {escape(source.description)} → {escape(target.description)} "
                  f"(build {escape(location.name)}); set VECTOR_STORE={to} to serve it", highlight=False)


@app.command()
def calibrate(model: ModelOption = None) -> None:
    """Measure every embedding engine on this CPU again and record the fastest that agrees with torch fp32.

    EMBEDDING_BACKEND=auto does this once per machine by itself (<= 30 s); run it after changing
    hardware settings, or to see the figures. Example: akhbar-index calibrate
    """
    settings = _settings(model=model)
    try:
        embedder = recalibrate(settings.embedding_model, settings.cache_dir)
    except AkhbarIndexError as error:
        raise _fail(str(error)) from None
    out.print(describe_engine(embedder), highlight=False)


@app.command("eval")
def evaluate_command(
    passages: Annotated[Path | None, typer.Option(help="QA passages JSONL: {pid, title, text}.")] = None,
    questions: Annotated[Path | None, typer.Option(help="QA questions JSONL: {qid, question, answers, pid}.")] = None,
    articles: Annotated[Path | None, typer.Option(help="Articles JSONL for the headline task.")] = None,
    headlines: Annotated[Path | None, typer.Option(help="Headline queries JSONL: {qid, query, article_id}.")] = None,
    mode: Annotated[list[str] | None, typer.Option(help="dense, lexical, hybrid (repeatable; default: all "
                                                         "three).")] = None,
    readers: Annotated[Path | None, typer.Option(help="Reader questions JSONL (bench/data/reader_questions.jsonl): "
                                                      "story-level R@1/R@3/MRR@10 per dialect.")] = None,
    archive: Annotated[Path | None, typer.Option(help="With --readers: the whole archive JSONL.")] = None,
    sample: Annotated[Path | None, typer.Option(help="With --readers: the 300-article sample JSONL.")] = None,
    pool: Annotated[str, typer.Option(help="With --readers: 300, 3000 or full (articles indexed).")] = "300",
    index_dir: Annotated[Path | None, typer.Option(
        "--index", help="With --readers: ask an index already built (e.g. of the whole archive, ~35 min to "
                        "build) instead of building the pool; --archive/--sample/--pool are then not needed.")] = None,
    limit: Annotated[int | None, typer.Option(help="Ask only the first N questions.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print results as JSON.")] = False,
    model: ModelOption = None,
) -> None:
    r"""Score retrieval on a labelled set: Recall@1/5/10, MRR@10, nDCG@10, answer-in-quote, queries/s.

    Builds a temporary index with the serving settings. Examples:
      akhbar-index eval --passages ../shared/data/qa/xquad_ar.passages.jsonl \\
                        --questions ../shared/data/qa/xquad_ar.questions.jsonl
      akhbar-index eval --articles ../shared/data/news/ant_multisource.sample300.jsonl \\
                        --headlines ../shared/data/news/ant_multisource.sample300.headlines.jsonl
      akhbar-index eval --readers bench/data/reader_questions.jsonl --pool 3000 \\
                        --archive ../shared/data/news/ant_multisource.jsonl \\
                        --sample ../shared/data/news/ant_multisource.sample300.jsonl
      akhbar-index eval --readers bench/data/reader_questions.jsonl --index data/index-30k
    """
    from index.evaluate import evaluate, load_headline_set, load_qa_set

    if readers is not None:
        _evaluate_readers(readers, archive, sample, pool, index_dir, model, mode, as_json)
        return
    if passages and questions:
        items = load_qa_set(passages, questions)
    elif articles and headlines:
        items = load_headline_set(articles, headlines)
    else:
        raise typer.BadParameter("give --passages and --questions, or --articles and --headlines")
    modes = _search_modes(mode or ["dense", "lexical", "hybrid"])
    settings = _settings(model=model)
    embedder = load_embedder(settings.embedding_model, settings.cache_dir, settings.embed_batch_size,
                             settings.embedding_backend)
    with progress_bar(console) as bar:
        results = evaluate(items[0], items[1][:limit], embedder, settings, modes, RichProgress(bar))
    if as_json:
        print(json.dumps([r.as_dict() for r in results], indent=1))
        return
    table = Table("mode", "R@1", "R@5", "R@10", "MRR@10", "nDCG@10", "ans@1", "ans@3", "quote chars", "q/s")
    for r in results:
        table.add_row(r.mode, _figure(r.recall_at_1), _figure(r.recall_at_5), _figure(r.recall_at_10),
                      _figure(r.mrr_at_10), _figure(r.ndcg_at_10), _figure(r.answer_in_quote_at_1),
                      _figure(r.answer_in_quote_at_3),
                      "—" if r.mean_quote_chars is None else f"{r.mean_quote_chars:.0f}",
                      f"{r.queries_per_second:.1f}")
    out.print(table)


def _evaluate_readers(readers: Path, archive: Path | None, sample: Path | None, pool: str, index_dir: Path | None,
                      model: str | None, mode: list[str] | None, as_json: bool) -> None:
    """``eval --readers``, rewriting off then on: over ``index_dir`` if given, else the pool indexed in scratch."""
    import tempfile

    from index.story_eval import load_reader_questions, results_json, score_both_ways, story_table, write_pool

    if index_dir is None and (archive is None or sample is None):
        raise typer.BadParameter("--readers needs --index, or --archive and --sample (the pools are drawn from them)")
    if pool not in ("300", "3000", "full"):
        raise typer.BadParameter(f"unknown pool {pool!r}", param_hint="--pool")
    questions = load_reader_questions(readers)
    settings = _settings(index=index_dir, model=model)
    if mode:
        settings = settings.model_copy(update={"search_mode": _search_modes(mode)[0]})
    with tempfile.TemporaryDirectory(prefix="akhbar-readers-") as scratch:
        embedder = None
        if index_dir is None and archive is not None and sample is not None:
            corpus_file = Path(scratch) / "pool.jsonl"
            articles = write_pool(cast("Literal['300', '3000', 'full']", pool), questions, archive, sample,
                                  corpus_file)
            console.print(f"pool {pool}: {articles} articles, {len(questions)} reader questions")
            settings = settings.model_copy(update={"index_dir": Path(scratch) / "index", "vector_store": "faiss"})
            embedder = load_embedder(settings.embedding_model, settings.cache_dir, settings.embed_batch_size,
                                     settings.embedding_backend)  # once, for the build and the questions
            run_build(settings, [corpus_file], incremental=False, wait=False, console=console, embedder=embedder)
        try:
            retriever = Retriever.open(settings.index_dir, settings=settings, embedder=embedder)
        except AkhbarIndexError as error:
            raise _fail(str(error)) from None
        try:
            gold = sorted({article_id for item in questions for article_id in item.gold_article_ids})
            console.print(f"index {settings.index_dir}: {retriever.store.size} chunks, "
                          f"{len(retriever.metadata.articles(gold))}/{len(gold)} gold articles in it")
            results = score_both_ways(retriever, questions)
        finally:
            retriever.close()
    if as_json:
        print(results_json(results))
        return
    out.print(story_table(results), highlight=False)


def _search_modes(names: list[str]) -> list[SearchMode]:
    """``--mode`` values as search modes (typer cannot take a list of literals itself)."""
    modes: list[SearchMode] = []
    for name in names:
        if name not in ("dense", "lexical", "hybrid"):
            raise typer.BadParameter(f"unknown mode {name!r}", param_hint="--mode")
        modes.append(cast("SearchMode", name))
    return modes


def _figure(value: float | None) -> str:
    """A metric for the table: three decimals, or a dash when it does not apply."""
    return "—" if value is None else f"{value:.3f}"


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
