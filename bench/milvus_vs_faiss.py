"""FAISS vs Milvus Lite on the same index: size, memory, query latency, and whether they answer alike.

What it runs (each measured step in a fresh child process, so its memory is its own):

* **migrate** — ``index.build.migrate`` copies a FAISS index into a Milvus Lite file (what
  ``akhbar-index migrate --to milvus`` does): no embedding, the same vectors and chunks.
* **query**, once per store — ``Retriever.search(k=5)`` in dense, lexical and hybrid mode with one
  query thread over N archive headlines (after 10 warm-up questions): p50/p95/p99 in ms, the
  process's RSS (with any child processes) after loading the model and after opening the index,
  the index's size on disk, and the top-5 article ids of the first 50 questions.
* the parent compares those top-5 lists question by question (identical = same ids, same order).
* ``--xquad``: ``akhbar-index eval`` on ``xquad_ar`` with each store (a temporary index each):
  Recall@1/@5 per mode; the issue asks for Milvus within 0.01 Recall@5 of FAISS.

Indexes: ``--index DIR`` (repeatable; FAISS index directories with the default model's vectors,
e.g. ``/tmp/akhbar-perf/akhbar-5000`` from ``bench/perf_build.py`` and the archive-size
``/tmp/akhbar-perf/akhbar-archive-mixed`` from ``bench/perf_query.py``, whose vectors are
synthetic), and/or ``--sample300``: the 300-article sample, built once with the real model.

Needs only the project's dependencies (pymilvus, milvus-lite). Milvus Lite is embedded and
single-process; a Milvus server's figures differ (network round trips, its own memory).

    python bench/milvus_vs_faiss.py --sample300 --xquad
    python bench/milvus_vs_faiss.py --index /tmp/akhbar-perf/akhbar-5000 --index /tmp/akhbar-perf/akhbar-archive-mixed
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

from perfbench import NEWS, RESULTS, child_main, folder_mb, percentiles_ms, run_child, timed

MODES = ("dense", "lexical", "hybrid")
COMPARED = 50
SAMPLE = NEWS / "ant_multisource.sample300.jsonl"
SAMPLE_HEADLINES = NEWS / "ant_multisource.sample300.headlines.jsonl"
ARCHIVE_HEADLINES = NEWS / "ant_multisource.headlines.jsonl"
QA = NEWS.parent / "qa"


def tree_rss_mb() -> float:
    """Resident memory of this process and its children (MB), from /proc (Milvus Lite may fork a server)."""
    me, total = os.getpid(), 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
            if int(entry.name) == me or int(stat[1]) == me:
                total += int((entry / "statm").read_text(encoding="ascii").split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total * os.sysconf("SC_PAGE_SIZE") / 1e6


def path_mb(path: Path) -> float:
    """Size of a file or of every file under a folder, in MB."""
    return path.stat().st_size / 1e6 if path.is_file() else folder_mb(path)


def settings_for(task: dict[str, Any]):  # noqa: ANN201
    """Serving settings for the task's store (one query thread, as the bot serves)."""
    from index import IndexSettings

    return IndexSettings(index_dir=Path(task["index_dir"]), vector_store=task.get("store", "faiss"),
                         milvus_uri=task["milvus_uri"], milvus_collection="akhbar", query_threads=1)


def migrate_step(task: dict[str, Any]) -> dict[str, Any]:
    """Copy the FAISS index into the Milvus Lite file."""
    from index.build.migrate import migrate
    from index.stores import open_store

    settings = settings_for(task)
    started = time.perf_counter()
    target = open_store(settings.model_copy(update={"vector_store": "milvus"}))
    location = migrate(open_store(settings), target)
    target.close()
    return {"seconds": round(time.perf_counter() - started, 1), "collection": location.name}


def query_step(task: dict[str, Any]) -> dict[str, Any]:
    """Latency, memory and size of one store, and the top-5 article ids of the first questions."""
    import faiss

    faiss.omp_set_num_threads(1)
    from index import Retriever, load_embedder

    settings = settings_for(task)
    before = tree_rss_mb()
    embedder = load_embedder(settings.embedding_model, settings.cache_dir, settings.embed_batch_size,
                             settings.embedding_backend)
    model_rss = tree_rss_mb()
    started = time.perf_counter()
    retriever = Retriever.open(settings.index_dir, settings=settings, embedder=embedder)
    open_seconds = time.perf_counter() - started
    loaded_rss = tree_rss_mb()
    questions = task["questions"]
    size = path_mb(Path(settings.milvus_uri)) if settings.vector_store == "milvus" else folder_mb(retriever.build_dir)
    result: dict[str, Any] = {"store": settings.vector_store, "chunks": retriever.manifest.chunks,
                              "index_mb": round(size, 1), "open_seconds": round(open_seconds, 2),
                              "rss_start_mb": round(before, 1), "rss_model_mb": round(model_rss, 1),
                              "rss_loaded_mb": round(loaded_rss, 1)}
    for mode in MODES:
        result[mode] = percentiles_ms(timed(lambda q, m=mode: retriever.search(q, k=5, mode=m), questions))
    result["rss_after_mb"] = round(tree_rss_mb(), 1)
    result["top5"] = {mode: [[p.article.id for p in retriever.search(q, k=5, mode=mode)]
                             for q in questions[:COMPARED]] for mode in MODES}
    retriever.close()
    return result


def xquad_step(task: dict[str, Any]) -> dict[str, Any]:
    """Recall of ``akhbar-index eval`` on xquad_ar with the task's store."""
    from index import load_embedder
    from index.evaluate import evaluate, load_qa_set

    settings = settings_for(task)
    embedder = load_embedder(settings.embedding_model, settings.cache_dir, settings.embed_batch_size,
                             settings.embedding_backend)
    articles, questions = load_qa_set(QA / "xquad_ar.passages.jsonl", QA / "xquad_ar.questions.jsonl")
    results = evaluate(articles, questions, embedder, settings, list(MODES))
    return {"store": settings.vector_store, "results": [r.as_dict() for r in results]}


def build_sample_step(task: dict[str, Any]) -> dict[str, Any]:
    """Build the 300-article sample's FAISS index with the real model (once)."""
    from corpus import ChunkerSettings
    from index import build_index, load_embedder

    settings = settings_for(task)
    embedder = load_embedder(settings.embedding_model, settings.cache_dir, settings.embed_batch_size,
                             settings.embedding_backend)
    report = build_index([SAMPLE], settings.index_dir, embedder,
                         ChunkerSettings(settings.chunk_tokens, settings.chunk_overlap_tokens))
    return {"articles": report.articles, "chunks": report.chunks}


def headlines(path: Path, count: int) -> list[str]:
    """The first ``count`` headline queries of a headline file."""
    found = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            found.append(json.loads(line)["query"])
            if len(found) == count:
                break
    return found


def compare(faiss_top: dict[str, list[list[str]]], milvus_top: dict[str, list[list[str]]]) -> dict[str, int]:
    """Questions whose top-5 article ids are identical (same ids, same order), per mode."""
    return {mode: sum(a == b for a, b in zip(faiss_top[mode], milvus_top[mode], strict=True)) for mode in MODES}


def print_table(rows: list[dict[str, Any]]) -> None:
    """Markdown table of the figures."""
    print("\n| index | store | chunks | size MB | RSS model+index MB | open s | dense p50/p95 ms | "
          "lexical p50/p95 | hybrid p50/p95 | hybrid q/s | identical top-5 (dense/lexical/hybrid) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        same = row["identical_top5"]
        for result in (row["faiss"], row["milvus"]):
            cells = [f"{result[m]['p50']:.1f} / {result[m]['p95']:.1f}" for m in MODES]
            agree = " / ".join(f"{same[m]}/{row['compared']}" for m in MODES) if result["store"] == "milvus" else ""
            print(f"| {row['name']} | {result['store']} | {result['chunks']} | {result['index_mb']} | "
                  f"{result['rss_loaded_mb']:.0f} | {result['open_seconds']} | {' | '.join(cells)} | "
                  f"{result['hybrid']['qps']} | {agree} |")
    if any("migrate" in row for row in rows):
        print("\n" + "; ".join(f"{row['name']}: migrate {row['migrate']['seconds']} s" for row in rows
                               if "migrate" in row))


def main() -> None:
    """Migrate each index, measure both stores, compare answers, print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, action="append", default=[], help="a FAISS index directory")
    parser.add_argument("--sample300", action="store_true", help="also the 300-article sample (built once)")
    parser.add_argument("--xquad", action="store_true", help="also Recall on xquad_ar with each store")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/akhbar-perf/milvus"))
    parser.add_argument("--questions", type=int, default=200, help="headlines asked per index and mode")
    parser.add_argument("--timeout", type=float, default=7200, help="seconds allowed per step")
    parser.add_argument("--json", type=Path, default=RESULTS / "milvus_vs_faiss.json")
    args = parser.parse_args()
    script = Path(__file__)
    args.workdir.mkdir(parents=True, exist_ok=True)
    targets: list[tuple[str, Path, Path]] = []
    if args.sample300:
        sample_index = args.workdir / "sample300-index"
        if not (sample_index / "current").exists():
            print("#", run_child(script, {"step": "build_sample", "index_dir": str(sample_index),
                                          "milvus_uri": str(args.workdir / "unused.db")}, args.timeout), flush=True)
        targets.append(("300-article sample (real vectors)", sample_index, SAMPLE_HEADLINES))
    targets += [(index.name, index, ARCHIVE_HEADLINES) for index in args.index]
    rows: list[dict[str, Any]] = []
    for name, index_dir, headline_file in targets:
        milvus_uri = args.workdir / f"{index_dir.name}.db"
        task = {"index_dir": str(index_dir), "milvus_uri": str(milvus_uri)}
        row: dict[str, Any] = {"name": name}
        if not milvus_uri.exists():
            row["migrate"] = run_child(script, {**task, "step": "migrate"}, args.timeout)
        questions = headlines(headline_file, args.questions)
        for store in ("faiss", "milvus"):
            row[store] = run_child(script, {**task, "step": "query", "store": store, "questions": questions},
                                   args.timeout)
        row["compared"] = min(COMPARED, len(questions))
        row["identical_top5"] = compare(row["faiss"]["top5"], row["milvus"]["top5"])
        print(f"# {name}: identical top-5 {row['identical_top5']} of {row['compared']}", flush=True)
        rows.append(row)
    if rows:
        print_table(rows)
    if args.xquad:
        xquad = {}
        for store in ("faiss", "milvus"):
            xquad[store] = run_child(script, {"step": "xquad", "store": store, "index_dir": str(args.workdir / "x"),
                                              "milvus_uri": str(args.workdir / "xquad.db")}, args.timeout)
        print("\n| xquad_ar | mode | R@1 | R@5 | R@10 | q/s |\n|---|---|---|---|---|---|")
        for store, result in xquad.items():
            for r in result["results"]:
                print(f"| {store} | {r['mode']} | {r['recall_at_1']:.3f} | {r['recall_at_5']:.3f} | "
                      f"{r['recall_at_10']:.3f} | {r['queries_per_second']:.1f} |")
        rows.append({"name": "xquad_ar", **xquad})
    for row in rows:
        for store in ("faiss", "milvus"):
            if isinstance(row.get(store), dict):
                row[store].pop("top5", None)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")


if __name__ == "__main__" and not child_main({"migrate": migrate_step, "query": query_step, "xquad": xquad_step,
                                              "build_sample": build_sample_step}):
    main()
