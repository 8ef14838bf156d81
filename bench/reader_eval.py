"""Story-level R@1 / R@3 / MRR@10 of the reader questions per dialect, before and after dialect rewriting.

Scores ``bench/data/reader_questions.jsonl`` (32 needs × MSA, Gulf, Egyptian, Levantine,
Maghrebi; every article of the archive that answers a need is gold) on one of three pools,
defined in ``index/story_eval.py``: ``300`` (the sample), ``3000`` (sample + every gold article +
``random.Random(18)`` draws) or ``full`` (29,916 articles). The pool is indexed with the project's
normal ``index.build_index`` and asked with ``Retriever.ask`` (the query path every front-end
shares) in the serving mode; ``--dialect-rewrite on`` lets the planner search dialect words as
MSA (``DIALECT_REWRITE``, the default), ``off`` searches the question as typed, ``both`` runs the
two over the same index.

    python bench/reader_eval.py --pool 300                      # build in a temp dir, both runs
    python bench/reader_eval.py --pool full --index /data/ant30k --dialect-rewrite on
    python bench/reader_eval.py --pool 300 --model /tmp/tiny-model --workdir /tmp/re   # smoke run

``--index DIR`` reuses a built index (built here before with ``--workdir``, or any index of the
same pool). The full pool is ~105k chunks with the default model: build it once and reuse it.
Writes ``bench/results/reader_eval_<pool>.json`` (scores, per-question story ranks, CPU, model).
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

from corpus import ChunkerSettings
from index import IndexSettings, Retriever, build_index, load_embedder
from index.embedding.cpu import cpu_identity
from index.story_eval import (
    ReaderQuestion,
    load_reader_questions,
    rank_questions,
    score_with_stories,
    story_rank,
    story_table,
    twin_gap,
    write_pool,
)

ROOT = Path(__file__).resolve().parents[1]
NEWS = ROOT.parent / "shared" / "data" / "news"
ARCHIVE = NEWS / "ant_multisource.jsonl"
SAMPLE = NEWS / "ant_multisource.sample300.jsonl"
K = 10
#: The places a reader sees first in the bot (three answers).
REPEAT_PLACES = 3


def cpu_model() -> str:
    """The CPU model name (from /proc/cpuinfo on Linux), for the results."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def repeated_gold_story(rankings: dict[str, list[list[str]]], questions: list[ReaderQuestion]) -> float:
    """Share of questions whose gold story (the hand-labelled list) takes two places or more of the first few.

    The gold lists are an outside judgement of what is one story, so this measures the folding
    without trusting the grouping it measures.
    """
    repeated = 0
    for item in questions:
        gold = set(item.gold_article_ids)
        places = rankings.get(item.qid, [])[:REPEAT_PLACES]
        repeated += sum(1 for place in places if gold.intersection(place)) > 1
    return repeated / max(len(questions), 1)


def build(pool: str, questions: list[ReaderQuestion], workdir: Path, embedder, settings: IndexSettings) -> Path:  # noqa: ANN001
    """Index the pool into ``workdir/index`` with the normal builder; returns the index dir."""
    workdir.mkdir(parents=True, exist_ok=True)
    corpus_file = workdir / f"pool_{pool}.jsonl"
    count = write_pool(pool, questions, ARCHIVE, SAMPLE, corpus_file)  # type: ignore[arg-type]
    started = time.perf_counter()
    build_index([corpus_file], workdir / "index", embedder,
                ChunkerSettings(settings.chunk_tokens, settings.chunk_overlap_tokens),
                build_threads=settings.build_threads)
    print(f"# built pool {pool}: {count} articles in {time.perf_counter() - started:.0f} s", flush=True)
    return workdir / "index"


def main() -> None:
    """Build or open the pool's index, run the questions with and/or without rewriting, print and save."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pool", choices=["300", "3000", "full"], default="300")
    parser.add_argument("--index", type=Path, default=None, help="reuse this built index of the pool")
    parser.add_argument("--workdir", type=Path, default=None, help="where to build (default: a temp dir)")
    parser.add_argument("--dialect-rewrite", choices=["on", "off", "both"], default="both")
    parser.add_argument("--stories", choices=["on", "off", "both"], default="on",
                        help="fold the stories the build grouped (on), or ignore them as a build without "
                             "them would (off: copies fold by word overlap only); 'both' is the ablation")
    parser.add_argument("--mode", choices=["dense", "lexical", "hybrid"], default=None,
                        help="search mode (default: SEARCH_MODE / settings, i.e. hybrid)")
    parser.add_argument("--model", default=None, help="embedding model (default: EMBEDDING_MODEL / settings)")
    parser.add_argument("--questions", type=Path, default=ROOT / "bench" / "data" / "reader_questions.jsonl")
    parser.add_argument("--json", type=Path, default=None, help="default bench/results/reader_eval_<pool>.json")
    args = parser.parse_args()

    settings = IndexSettings()
    if args.model:
        settings = settings.model_copy(update={"embedding_model": args.model})
    if args.mode:
        settings = settings.model_copy(update={"search_mode": args.mode})
    questions = load_reader_questions(args.questions)
    cpu_name, flags = cpu_identity()
    cpu = f"{cpu_model()} ({cpu_name}; {' '.join(f for f in flags.split() if f.startswith(('avx', 'amx')))})"
    print(f"# CPU: {cpu}; pool {args.pool}; {len(questions)} questions; model {settings.embedding_model}", flush=True)
    embedder = load_embedder(settings.embedding_model, settings.cache_dir, settings.embed_batch_size)
    with tempfile.TemporaryDirectory(prefix="reader-eval-") as scratch:
        index_dir = args.index or build(args.pool, questions, args.workdir or Path(scratch), embedder, settings)
        retriever = Retriever.open(index_dir, settings=settings, embedder=embedder, mode=settings.search_mode)
        try:
            choices = {"off": [False], "on": [True], "both": [False, True]}
            results, ranks, timing, repeats = {}, {}, {}, {}
            grouped = retriever.metadata.stories
            for stories in choices[args.stories]:
                # Off: the retriever and the scoring see no story ids, as over a build without them.
                retriever.metadata.stories = grouped if stories else lambda ids: {}  # type: ignore[method-assign]
                for rewrite in choices[args.dialect_rewrite]:
                    name = f"rewrite {'on' if rewrite else 'off'}, stories {'on' if stories else 'off'}"
                    started = time.perf_counter()
                    rankings = rank_questions(retriever, questions, K, dialect_rewrite=rewrite)
                    timing[name] = round(time.perf_counter() - started, 2)
                    results[name], results[f"{name}, shown article only"], story_of = score_with_stories(
                        retriever, rankings, questions)
                    ranks[name] = {q.qid: story_rank(rankings[q.qid], q.gold_article_ids, story_of) for q in questions}
                    repeats[name] = repeated_gold_story(rankings, questions)
        finally:
            retriever.close()
    print(story_table(results))
    for name, share in repeats.items():
        print(f"# {name}: the gold story takes two or more of the first {REPEAT_PLACES} places for "
              f"{share:.1%} of questions")
    out = args.json or ROOT / "bench" / "results" / f"reader_eval_{args.pool}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "pool": args.pool, "cpu": cpu, "model": settings.embedding_model, "mode": retriever.mode,
        "questions": len(questions), "index": str(args.index) if args.index else None, "seconds": timing,
        "scores": {run: {g: s.as_dict() for g, s in scores.items()} for run, scores in results.items()},
        "twin_gap_r_at_1": {run: round(twin_gap(scores), 4) for run, scores in results.items()},
        "story_ranks": ranks, "gold_story_repeated_in_top_3": repeats,
    }, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"# written {out}")


if __name__ == "__main__":
    main()
