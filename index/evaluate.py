"""Evaluation harness: build a temporary index from a labelled set, ask every question, score.

Two input formats, any file in them works:

* **QA** (``../shared/data/qa``): passages ``{"pid","title","text"}`` and questions
  ``{"qid","question","answers":[...],"pid"}``. Passages are indexed as articles (chunked
  exactly like news), results collapsed to passages before scoring.
* **Headlines** (``../shared/data/news``): articles in the archive's JSONL and queries
  ``{"qid","query","article_id"}``; bodies are indexed *without* titles, or the task is trivial.

Metrics: Recall@1/5/10, MRR@10, nDCG@10 (one relevant item per question), answer-in-quote@1/@3
(a gold answer string appears in the quote shown — what the reader actually sees), the mean
length of the first quote in characters (longer quotes contain answers more often, so the two
are read together), queries/s.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from corpus import Article, ChunkerSettings
from index.build.builder import build_index
from index.build.progress import NullProgress, Progress
from index.embedding.base import Embedder
from index.search.retriever import Retriever
from index.settings import IndexSettings, SearchMode
from index.stores import open_store

CUTOFFS = (1, 5, 10)


@dataclass(slots=True)
class EvalQuestion:
    """One labelled question: its text, the id of the passage/article that answers it, answers."""

    qid: str
    text: str
    gold_id: str
    answers: tuple[str, ...] = ()


@dataclass(slots=True)
class EvalResult:
    """Scores of one mode on one set."""

    mode: str
    questions: int
    recall_at_1: float
    recall_at_5: float
    recall_at_10: float
    mrr_at_10: float
    ndcg_at_10: float
    answer_in_quote_at_1: float | None
    answer_in_quote_at_3: float | None
    mean_quote_chars: float | None
    queries_per_second: float

    def as_dict(self) -> dict[str, object]:
        """Plain dict for ``--json``."""
        return asdict(self)


def _read_jsonl(path: Path) -> Iterator[dict[str, object]]:
    with path.open(encoding="utf-8-sig") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def _strings(value: object) -> list[object]:
    """A JSON list field as a list (absent or not a list: empty)."""
    return list(value) if isinstance(value, list) else []


def load_qa_set(passages: Path, questions: Path) -> tuple[list[Article], list[EvalQuestion]]:
    """Read a QA set: passages become articles (id = pid), questions keep their answers."""
    articles = [Article(id=str(r["pid"]), title=str(r.get("title") or ""), text=str(r["text"]))
                for r in _read_jsonl(passages)]
    items = [EvalQuestion(str(r["qid"]), str(r["question"]).strip().lstrip("- ").strip(), str(r["pid"]),
                          tuple(str(a) for a in _strings(r.get("answers"))))
             for r in _read_jsonl(questions)]
    return articles, items


def load_headline_set(articles_path: Path, headlines: Path) -> tuple[list[Article], list[EvalQuestion]]:
    """Read the headline task: article bodies without titles, headlines as questions."""
    articles = [Article(id=str(r["id"]), title="", text=str(r["text"]), source=str(r.get("source") or ""))
                for r in _read_jsonl(articles_path)]
    items = [EvalQuestion(str(r["qid"]), str(r["query"]), str(r["article_id"])) for r in _read_jsonl(headlines)]
    return articles, items


def _write_articles(articles: Sequence[Article], path: Path) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for a in articles:
            handle.write(json.dumps({"id": a.id, "title": a.title, "text": a.text, "source": a.source},
                                    ensure_ascii=False) + "\n")


def eval_settings(settings: IndexSettings, workdir: Path) -> IndexSettings:
    """The serving settings, pointed at a temporary index.

    For FAISS a directory in ``workdir``; for Milvus a Lite file there, or on a server a collection
    named after this process (dropped after).
    """
    updates: dict[str, object] = {"index_dir": workdir / "index"}
    if settings.vector_store == "milvus":
        if "://" in settings.milvus_uri:
            updates["milvus_collection"] = f"{settings.milvus_collection[:16]}_eval_{os.getpid()}"
        else:
            updates["milvus_uri"] = str(workdir / "eval.db")
    return settings.model_copy(update=updates)


def build_eval_index(articles: Sequence[Article], embedder: Embedder, settings: IndexSettings, workdir: Path,
                     progress: Progress | None = None) -> Path:
    """Index the set's articles with ``settings`` (see :func:`eval_settings`); returns the index dir."""
    corpus_file = workdir / "corpus.jsonl"
    _write_articles(articles, corpus_file)
    index_dir = workdir / "index"
    build_index([corpus_file], index_dir, embedder,
                ChunkerSettings(settings.chunk_tokens, settings.chunk_overlap_tokens),
                progress=progress, build_threads=settings.build_threads, store=open_store(settings, index_dir))
    return index_dir


def score(retriever: Retriever, questions: Sequence[EvalQuestion], mode: SearchMode,
          progress: Progress | None = None) -> EvalResult:
    """Ask every question in ``mode`` and compute the metrics."""
    progress = progress or NullProgress()
    # Quotes do not change the ranking; without gold answers their semantic evidence is wasted work.
    retriever.quotes.enabled_semantic = (retriever.quotes.embedder is not None
                                         and any(item.answers for item in questions))
    hits = {cutoff: 0 for cutoff in CUTOFFS}
    reciprocal, gain, in_quote_1, in_quote_3, with_answers, quote_chars = 0.0, 0.0, 0, 0, 0, 0
    progress.start(f"asking ({mode})", len(questions), "questions")
    started = time.perf_counter()
    for item in questions:
        passages = retriever.search(item.text, k=max(CUTOFFS), mode=mode)
        # A passage stands for the near-duplicate articles folded into it (same story, other outlet).
        ranks: dict[str, int] = {}
        for position, passage in enumerate(passages, start=1):
            for article_id in (passage.article.id, *(d.id for d in passage.duplicates)):
                ranks.setdefault(article_id, position)
        rank = ranks.get(item.gold_id)
        for cutoff in CUTOFFS:
            hits[cutoff] += rank is not None and rank <= cutoff
        if rank is not None:
            reciprocal += 1 / rank
            gain += 1 / math.log2(rank + 1)
        if item.answers:
            with_answers += 1
            quotes = [p.quote.text for p in passages[:3]]
            in_quote_1 += bool(quotes) and any(answer in quotes[0] for answer in item.answers)
            quote_chars += len(quotes[0]) if quotes else 0
            in_quote_3 += any(answer in quote for quote in quotes for answer in item.answers)
        progress.advance()
    elapsed = time.perf_counter() - started
    progress.finish()
    total = len(questions) or 1
    return EvalResult(
        mode=mode, questions=len(questions), recall_at_1=hits[1] / total, recall_at_5=hits[5] / total,
        recall_at_10=hits[10] / total, mrr_at_10=reciprocal / total, ndcg_at_10=gain / total,
        answer_in_quote_at_1=in_quote_1 / with_answers if with_answers else None,
        answer_in_quote_at_3=in_quote_3 / with_answers if with_answers else None,
        mean_quote_chars=quote_chars / with_answers if with_answers else None,
        queries_per_second=len(questions) / elapsed if elapsed else 0.0)


def evaluate(articles: Sequence[Article], questions: Sequence[EvalQuestion], embedder: Embedder,
             settings: IndexSettings, modes: Sequence[SearchMode],
             progress: Progress | None = None) -> list[EvalResult]:
    """Build a temporary index once and score every mode on it."""
    with tempfile.TemporaryDirectory(prefix="akhbar-eval-") as workdir:
        settings = eval_settings(settings, Path(workdir))
        try:
            index_dir = build_eval_index(articles, embedder, settings, Path(workdir), progress)
            retriever = Retriever.open(index_dir, settings=settings, embedder=embedder)
            try:
                return [score(retriever, questions, mode, progress) for mode in modes]
            finally:
                retriever.close()
        finally:
            store = open_store(settings, Path(workdir) / "index")
            store.drop()
            store.close()
