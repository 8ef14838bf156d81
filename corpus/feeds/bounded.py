"""Reading a response body with a hard cap on the *decoded* bytes, whatever its content encoding.

A compressed body is small on the wire and can be huge once decoded: 32 KB of zstd decode to 1 GiB,
and httpx's own zstd decoder inflates each network read completely before anyone can count it
(~2 GB of RSS for that body). So the fetcher reads the raw bytes and decodes them here, in pieces
of at most :data:`PIECE` bytes of output, counting as it goes: the body is abandoned as soon as the
cap is crossed, and no step ever holds more than the cap plus one piece.

gzip and deflate use the standard library's ``zlib`` with ``max_length``; zstd uses
``zstandard``'s streaming reader (installed with httpx's zstd support) when present; Brotli is
refused unless the ``brotli`` package is installed. The fetcher advertises only ``gzip, deflate``,
so a well-behaved server never sends the others.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO, cast

#: Largest piece of decoded output produced by one step (Brotli's limit is approximate: ~1.5×).
PIECE = 64 * 1024
#: What the fetcher asks for: encodings every server speaks and the standard library decodes.
ACCEPT_ENCODING = "gzip, deflate"


class BodyRefused(Exception):
    """A body that was not read in full; the message is the one-line reason."""


def _inflate(chunks: Iterable[bytes], wbits: int) -> Iterator[bytes]:
    """zlib/gzip output of ``chunks``, at most :data:`PIECE` bytes per step."""
    decoder = zlib.decompressobj(wbits)
    for chunk in chunks:
        data = chunk
        while data:
            try:
                out = decoder.decompress(data, PIECE)
            except zlib.error as error:
                raise BodyRefused(f"damaged compressed body ({error})") from None
            if out:
                yield out
            data = decoder.unconsumed_tail
        if decoder.eof:
            return
    while out := decoder.decompress(b"", PIECE):  # output zlib still holds once the input has ended
        yield out


def _gzip(chunks: Iterable[bytes]) -> Iterator[bytes]:
    return _inflate(chunks, 16 + zlib.MAX_WBITS)


def _deflate(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """HTTP "deflate" is meant to be zlib-wrapped, but some servers send raw deflate: accept both."""
    iterator = iter(chunks)
    first = next(iterator, b"")
    wbits = zlib.MAX_WBITS if first[:1] and (first[0] & 0x0F) == 8 and int.from_bytes(first[:2]) % 31 == 0 \
        else -zlib.MAX_WBITS
    return _inflate(_prepend(first, iterator), wbits)


def _prepend(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


class _ChunkReader:
    """A file-like ``read(size)`` over an iterator of chunks (for zstandard's stream reader)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._buffer = b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        if size < 0:
            size = len(self._buffer)
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data


def _zstd(chunks: Iterable[bytes]) -> Iterator[bytes]:
    try:
        import zstandard
    except ImportError:
        raise BodyRefused("zstd-encoded body, and no zstd decoder is installed") from None
    source = cast("BinaryIO", _ChunkReader(chunks))  # zstandard only calls read(size)
    reader = zstandard.ZstdDecompressor().stream_reader(source, read_size=16 * 1024, read_across_frames=True)
    try:
        while piece := reader.read(PIECE):
            yield piece
    except zstandard.ZstdError as error:
        raise BodyRefused(f"damaged zstd body ({error})") from None


def _brotli(chunks: Iterable[bytes]) -> Iterator[bytes]:
    try:
        import brotli
    except ImportError:
        raise BodyRefused("Brotli-encoded body, which was not asked for (no decoder installed)") from None
    decoder = brotli.Decompressor()
    try:
        for chunk in chunks:
            out = decoder.process(chunk, output_buffer_limit=PIECE)
            while True:
                if out:
                    yield out
                if decoder.can_accept_more_data():
                    break
                out = decoder.process(b"", output_buffer_limit=PIECE)
    except brotli.error as error:
        raise BodyRefused(f"damaged Brotli body ({error})") from None


_DECODERS: dict[str, Callable[[Iterable[bytes]], Iterator[bytes]]] = {
    "gzip": _gzip, "x-gzip": _gzip, "deflate": _deflate, "zstd": _zstd, "br": _brotli,
}


def decoded(raw: Iterable[bytes], content_encoding: str) -> Iterator[bytes]:
    """The body of ``raw`` decoded through every encoding of a ``Content-Encoding`` header, in pieces.

    Raises:
        BodyRefused: an unknown encoding, or a damaged body (while iterating).

    """
    stream: Iterable[bytes] = raw
    for name in (part.strip().lower() for part in content_encoding.split(",")):
        if name in ("", "identity"):
            continue
        decoder = _DECODERS.get(name)
        if decoder is None:
            raise BodyRefused(f"unsupported content encoding {name[:40]!r}")
        stream = decoder(stream)
    yield from stream


def read_capped(raw: Iterable[bytes], content_encoding: str, max_bytes: int) -> bytes:
    """The whole decoded body, or :class:`BodyRefused` as soon as it would exceed ``max_bytes``.

    Raises:
        BodyRefused: the decoded body is larger than ``max_bytes``, damaged, or in an unknown encoding.

    """
    pieces: list[bytes] = []
    size = 0
    for piece in decoded(raw, content_encoding):
        size += len(piece)
        if size > max_bytes:
            raise BodyRefused(f"body exceeds the {max_bytes:,}-byte limit"
                              + (" once decoded" if content_encoding.strip() else ""))
        pieces.append(piece)
    return b"".join(pieces)
