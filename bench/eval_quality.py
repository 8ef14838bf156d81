"""Retrieval quality on every development set, every mode: the README's quality table.

Runs the evaluation harness (index/evaluate.py) with the serving settings over
``../shared/data/qa`` (xquad_ar, arcd_train, mlqa_dev_ar) and the sample300 headline task, for
dense, lexical and hybrid search, and prints a Markdown table (also written as JSON).

    python bench/eval_quality.py                    # all sets, all modes (~15 min on 2 cores)
    python bench/eval_quality.py --sets xquad_ar --modes hybrid --cache /tmp/akhbar-eval

``--cache`` keeps each set's built index so later runs only ask questions.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from index import IndexSettings, Retriever, load_embedder
from index.build.progress import NullProgress
from index.evaluate import build_eval_index, load_headline_set, load_qa_set, score

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SETS = {
    "xquad_ar": ("qa", SHARED / "qa" / "xquad_ar.passages.jsonl", SHARED / "qa" / "xquad_ar.questions.jsonl"),
    "arcd_train": ("qa", SHARED / "qa" / "arcd_train.passages.jsonl", SHARED / "qa" / "arcd_train.questions.jsonl"),
    "mlqa_dev_ar": ("qa", SHARED / "qa" / "mlqa_dev_ar.passages.jsonl", SHARED / "qa" / "mlqa_dev_ar.questions.jsonl"),
    "sample300_headlines": ("headlines", SHARED / "news" / "ant_multisource.sample300.jsonl",
                            SHARED / "news" / "ant_multisource.sample300.headlines.jsonl"),
}


def open_set(name: str, settings: IndexSettings, embedder, cache: Path) -> tuple[Retriever, list]:  # noqa: ANN001
    """Build (or reuse from ``cache``) the set's index and return it with its questions."""
    kind, first, second = SETS[name]
    articles, questions = load_qa_set(first, second) if kind == "qa" else load_headline_set(first, second)
    workdir = cache / name
    index_dir = workdir / "index"
    if not (index_dir / "current").exists():
        workdir.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        build_eval_index(articles, embedder, settings, workdir, NullProgress())
        print(f"# built {name}: {len(articles)} articles in {time.perf_counter() - started:.0f} s", flush=True)
    return Retriever.open(index_dir, settings=settings, embedder=embedder), questions


def _figure(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def main() -> None:
    """Run the sets and modes asked for and print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    parser.add_argument("--modes", nargs="+", default=["dense", "lexical", "hybrid"])
    parser.add_argument("--cache", type=Path, default=Path("bench/results/eval-cache"))
    parser.add_argument("--limit", type=int, default=None, help="first N questions of each set")
    parser.add_argument("--json", type=Path, default=Path("bench/results/eval_quality.json"))
    args = parser.parse_args()
    settings = IndexSettings()
    embedder = load_embedder(settings.embedding_model, settings.cache_dir, settings.embed_batch_size,
                             settings.embedding_backend)  # EMBEDDING_BACKEND was ignored: every run was auto's
    print(f"# engine {embedder.backend}", flush=True)
    rows = []
    print("| set | mode | R@1 | R@5 | R@10 | MRR@10 | nDCG@10 | answer-in-quote@1 | @3 | quote chars | q/s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name in args.sets:
        retriever, questions = open_set(name, settings, embedder, args.cache)
        for mode in args.modes:
            result = score(retriever, questions[: args.limit], mode)
            rows.append({"set": name, **result.as_dict()})
            print(f"| {name} | {mode} | {_figure(result.recall_at_1)} | {_figure(result.recall_at_5)} | "
                  f"{_figure(result.recall_at_10)} | {_figure(result.mrr_at_10)} | {_figure(result.ndcg_at_10)} | "
                  f"{_figure(result.answer_in_quote_at_1)} | {_figure(result.answer_in_quote_at_3)} | "
                  f"{'—' if result.mean_quote_chars is None else f'{result.mean_quote_chars:.0f}'} | "
                  f"{result.queries_per_second:.1f} |", flush=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
