"""Would a learned re-ranker over the signals we already have rank better? Leave one set out and see.

Issue 18 asks for "whatever lifts story-level R@1 at 30k on sets it was not tuned on", e.g. a
learned re-ranker over dense, BM25, title match, story size. This script measures that honestly:
for every question of five sets (xquad_ar, arcd_train, mlqa_dev_ar at their own pools, the ANT
headlines of the 300-article sample, the reader questions over the **whole archive**) it takes the
first ``CANDIDATES`` stories the hybrid search returns (the query path's rewriting and time
filters applied, one chunk per story) and records their signals; then, for each set, a listwise
model (the softmax of :func:`index.search.sentence_model.fit`, the quote model's learner) is fitted
on the other four and re-orders that set's candidates. The line to read is the held-out R@1 next
to the search's own order.

    python bench/rerank_signals.py --index data/index-30k            # collects, then the table
    python bench/rerank_signals.py --index data/index-30k --features fused,dense fused,lead

The three QA pools and the headline pool are built once in ``--workdir`` (a few minutes); the
candidates are written there as JSON and reused (``--recollect`` to ask again).
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from perfbench import NEWS, ROOT, cpu_summary

from corpus.arabic import lexical_tokens
from corpus.dialect import question_type
from index import IndexSettings, Retriever, load_embedder
from index.embedding.base import Embedder
from index.evaluate import build_eval_index, eval_settings, load_headline_set, load_qa_set
from index.search.filters import SearchFilters
from index.search.plan import plan_question, reference_day
from index.search.quote_evidence import DATE, NUMBER, idf_coverage
from index.search.retriever import _best_per_story
from index.search.sentence_model import SentenceModel, fit
from index.story_eval import load_reader_questions

QA = ROOT.parent / "shared" / "data" / "qa"
QA_SETS = ("xquad_ar", "arcd_train", "mlqa_dev_ar")
SETS = (*QA_SETS, "headlines", "readers")
#: Stories re-ordered per question (the reader set's gold story is among the first 10 for every question).
CANDIDATES = 10
SIGNALS = ("fused", "inverse_rank", "dense", "lexical", "title_coverage", "title_coverage_below_best",
           "chunk_coverage", "chunk_coverage_below_best", "story_copies", "lead_chunk", "answer_shape")
DEFAULT_FEATURE_SETS = (",".join(SIGNALS), "fused,dense", "fused,title_coverage,title_coverage_below_best",
                        "fused,story_copies", "fused,lead_chunk", "fused,chunk_coverage,chunk_coverage_below_best",
                        "fused,answer_shape")


def candidates(retriever: Retriever, question: str) -> list[dict[str, Any]]:
    """The first stories of the hybrid search for ``question``, with their signals."""
    plan = plan_question(question, reference_day(retriever.metadata))
    filters = SearchFilters((), plan.period.since, plan.period.until) if plan.period else SearchFilters()
    allowed = retriever.store.restrict(filters)
    vector = retriever.embedder.embed_query(plan.query)
    pool = min(allowed.count, 8 * CANDIDATES)
    lexical = retriever.store.lexical(plan.query, pool, allowed)
    best = _best_per_story(retriever._ranked(plan.query, vector, "hybrid", pool, allowed), retriever.metadata,
                           CANDIDATES)
    articles = retriever.metadata.articles([pick.chunk.article_id for pick in best])
    vectors = retriever.store.vectors([pick.vector_id for pick in best])
    terms = set(lexical_tokens(plan.query))
    titles = [set(lexical_tokens(articles[p.chunk.article_id].title)) if p.chunk.article_id in articles else set()
              for p in best]
    chunk_terms = [set(lexical_tokens(p.chunk.text)) for p in best]
    coverage = idf_coverage(terms, titles + chunk_terms)
    title_coverage, chunk_coverage = coverage[:len(best)], coverage[len(best):]
    top_lexical = max([lexical.get(p.vector_id, 0.0) for p in best] + [1e-9])
    shape = {"how_much": NUMBER, "when": DATE}.get(question_type(plan.query))
    return [{"ids": [p.chunk.article_id, *p.duplicates], "fused": p.score,
             "dense": float(vectors[p.vector_id] @ vector), "lexical": lexical.get(p.vector_id, 0.0) / top_lexical,
             "title_coverage": title_coverage[i], "answer_shape": bool(shape and shape.search(p.chunk.text)),
             "chunk_coverage": chunk_coverage[i], "story_copies": len(p.duplicates), "lead_chunk": p.chunk.start == 0}
            for i, p in enumerate(best)]


def collect(workdir: Path, index_30k: Path, embedder: Embedder) -> dict[str, list[dict[str, Any]]]:
    """Every set's questions with their candidates (read from ``workdir`` when collected before)."""
    settings = IndexSettings(index_dir=workdir / "unused")
    result: dict[str, list[dict[str, Any]]] = {}
    for name in SETS:
        cached = workdir / f"{name}.candidates.json"
        if cached.exists():
            result[name] = json.loads(cached.read_text(encoding="utf-8"))
            continue
        if name == "readers":
            retriever = Retriever.open(index_30k, embedder=embedder)
            items = [(q.question, list(q.gold_article_ids)) for q in load_reader_questions()]
        else:
            articles, questions = (load_headline_set(NEWS / "ant_multisource.sample300.jsonl",
                                                     NEWS / "ant_multisource.sample300.headlines.jsonl")
                                   if name == "headlines" else
                                   load_qa_set(QA / f"{name}.passages.jsonl", QA / f"{name}.questions.jsonl"))
            folder = workdir / name
            folder.mkdir(parents=True, exist_ok=True)
            pool_settings = eval_settings(settings, folder)
            if not (folder / "index" / "current").exists():
                build_eval_index(articles, embedder, pool_settings, folder)
            retriever = Retriever.open(folder / "index", settings=pool_settings, embedder=embedder)
            items = [(q.text, [q.gold_id]) for q in questions]
        result[name] = [{"question": q, "gold": gold, "candidates": candidates(retriever, q)} for q, gold in items]
        retriever.close()
        cached.write_text(json.dumps(result[name], ensure_ascii=False), encoding="utf-8")
        print(f"  collected {name}: {len(items)} questions", flush=True)
    return result


def features(rows: list[dict[str, Any]], names: Sequence[str]) -> np.ndarray:
    """The signals of one question's candidates, relative to the best where that is what compares."""
    fused, dense = max(r["fused"] for r in rows), max(r["dense"] for r in rows)
    title, chunk = max(r["title_coverage"] for r in rows), max(r["chunk_coverage"] for r in rows)
    table = [{"fused": r["fused"] - fused, "inverse_rank": 1 / (1 + i), "dense": r["dense"] - dense,
              "lexical": r["lexical"], "title_coverage": r["title_coverage"],
              "title_coverage_below_best": r["title_coverage"] - title, "chunk_coverage": r["chunk_coverage"],
              "chunk_coverage_below_best": r["chunk_coverage"] - chunk, "story_copies": math.log1p(r["story_copies"]),
              "lead_chunk": float(r["lead_chunk"]), "answer_shape": float(r["answer_shape"])}
             for i, r in enumerate(rows)]
    return np.array([[row[name] for name in names] for row in table])


def held_out_table(data: dict[str, list[dict[str, Any]]], names: Sequence[str]) -> str:
    """One line per set: R@1 of the search's order, and of the model fitted on the other sets."""
    examples = {}
    for name, questions in data.items():
        examples[name] = [(features(q["candidates"], names),
                           next((i for i, c in enumerate(q["candidates"]) if set(c["ids"]) & set(q["gold"])), -1))
                          for q in questions if q["candidates"]]

    def r_at_1(model: SentenceModel | None, chosen: list[tuple[np.ndarray, int]]) -> float:
        first = [0 if model is None else int(model.probabilities(x).argmax()) for x, _ in chosen]
        return sum(f == gold for f, (_, gold) in zip(first, chosen, strict=True)) / max(len(chosen), 1)

    lines = [f"features: {', '.join(names)}", "| held-out set | questions | search order R@1 | re-ranked R@1 |",
             "|---|---|---|---|"]
    for name in examples:
        model = fit([e for other, chosen in examples.items() if other != name for e in chosen], names, l2=1e-2)
        lines.append(f"| {name} | {len(examples[name])} | {r_at_1(None, examples[name]):.3f} | "
                     f"{r_at_1(model, examples[name]):.3f} |")
    return "\n".join(lines)


def main() -> None:
    """Collect the candidates once, then print the leave-one-set-out table for each feature set."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, required=True, help="an index of the whole archive")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/akhbar-rerank"), help="pools and candidates")
    parser.add_argument("--features", nargs="+", default=list(DEFAULT_FEATURE_SETS),
                        help=f"comma-separated feature sets to try, from: {', '.join(SIGNALS)}")
    parser.add_argument("--recollect", action="store_true", help="ask every question again")
    args = parser.parse_args()
    print(cpu_summary())
    args.workdir.mkdir(parents=True, exist_ok=True)
    if args.recollect:
        for cached in args.workdir.glob("*.candidates.json"):
            cached.unlink()
    settings = IndexSettings(index_dir=args.workdir / "unused")
    embedder = load_embedder(settings.embedding_model, settings.cache_dir, settings.embed_batch_size,
                             settings.embedding_backend)
    data = collect(args.workdir, args.index, embedder)
    for feature_set in args.features:
        names = feature_set.split(",")
        unknown = set(names) - set(SIGNALS)
        if unknown:
            raise SystemExit(f"unknown signals: {', '.join(sorted(unknown))}")
        print("\n" + held_out_table(data, names), flush=True)


if __name__ == "__main__":
    main()
