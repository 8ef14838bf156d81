"""Sentence-aware chunking sized in the embedding model's tokens, with exact offsets.

Why not a generic splitter: LangChain's splitters find chunk offsets by searching the text
again, which is wrong when a sentence repeats, and they strip characters. Here a chunk is
always a run of whole sentences ``article.text[start:end]`` (so ``chunk.text`` is exactly that
slice), packed greedily up to ``max_tokens`` model tokens, and the next chunk repeats the last
sentences of the previous one up to ``overlap_tokens`` so an answer that straddles a boundary
is still whole in one chunk. A sentence longer than ``max_tokens`` is cut at word boundaries.
Token counts come from the model's own tokenizer, so no chunk is truncated at its window.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from corpus.sentences import sentence_spans, word_spans
from corpus.types import Article, Chunk

#: Counts model tokens for a batch of strings (no special tokens).
TokenCounter = Callable[[Sequence[str]], list[int]]


def approximate_token_counter(texts: Sequence[str]) -> list[int]:
    """A model-free estimate (~1.9 tokens per Arabic word), for tests and tools without a model."""
    return [max(1, round(len(text.split()) * 1.9)) for text in texts]


@dataclass(frozen=True, slots=True)
class ChunkerSettings:
    """How articles are cut; stored in the index manifest so a mismatch forces a rebuild.

    Attributes:
        max_tokens: Upper bound per chunk in model tokens (the e5 window is 512; keep room).
        overlap_tokens: Budget of whole trailing sentences repeated at the start of the next chunk.
    """

    max_tokens: int = 200
    overlap_tokens: int = 40

    def __post_init__(self) -> None:
        if not 16 <= self.max_tokens <= 480:
            raise ValueError(f"max_tokens must be between 16 and 480, got `{self.max_tokens}`")
        if not 0 <= self.overlap_tokens < self.max_tokens // 2:
            raise ValueError(f"overlap_tokens must be >= 0 and < max_tokens / 2, got `{self.overlap_tokens}`")


class Chunker:
    """Cuts articles into chunks; one instance per model, since token counts depend on it."""

    def __init__(self, count_tokens: TokenCounter = approximate_token_counter,
                 settings: ChunkerSettings | None = None) -> None:
        self.count_tokens = count_tokens
        self.settings = settings or ChunkerSettings()

    def chunk(self, article: Article) -> list[Chunk]:
        """Return the article's chunks in order; each is ``article.text[start:end]`` exactly."""
        units = self._units(article.text)
        chunks: list[Chunk] = []
        first = 0
        while first < len(units):
            last, total = first, units[first][2]
            while last + 1 < len(units) and total + units[last + 1][2] <= self.settings.max_tokens:
                last += 1
                total += units[last][2]
            start, end = units[first][0], units[last][1]
            chunks.append(Chunk(id=f"{article.id}#{len(chunks)}", article_id=article.id,
                                text=article.text[start:end], start=start, end=end))
            if last + 1 >= len(units):
                break
            first = self._overlap_start(units, first, last)
        return chunks

    def _overlap_start(self, units: list[tuple[int, int, int]], first: int, last: int) -> int:
        """First unit of the next chunk: trailing units of this one within the overlap budget."""
        next_first, budget = last + 1, self.settings.overlap_tokens
        while next_first - 1 > first and units[next_first - 1][2] <= budget:
            budget -= units[next_first - 1][2]
            next_first -= 1
        return next_first

    def _units(self, text: str) -> list[tuple[int, int, int]]:
        """Sentences as ``(start, end, tokens)``, long ones cut into word windows that fit."""
        spans = sentence_spans(text)
        counts = self.count_tokens([text[s:e] for s, e in spans]) if spans else []
        units: list[tuple[int, int, int]] = []
        for (start, end), tokens in zip(spans, counts, strict=True):
            if tokens <= self.settings.max_tokens:
                units.append((start, end, tokens))
            else:
                units.extend(self._split_long(text, start, end, tokens))
        return units

    def _split_long(self, text: str, start: int, end: int, tokens: int) -> list[tuple[int, int, int]]:
        words = word_spans(text, start, end)
        per_piece = max(1, int(len(words) * self.settings.max_tokens * 0.9 / tokens))
        pieces = [(words[i][0], words[min(i + per_piece, len(words)) - 1][1])
                  for i in range(0, len(words), per_piece)]
        counts = self.count_tokens([text[s:e] for s, e in pieces])
        result: list[tuple[int, int, int]] = []
        for (piece_start, piece_end), count in zip(pieces, counts, strict=True):
            if count > self.settings.max_tokens and piece_end - piece_start > 1:
                # A pathological token-dense run (e.g. a URL): halve by characters until it fits.
                result.extend(_halves(text, piece_start, piece_end, self))
            else:
                result.append((piece_start, piece_end, count))
        return result


def _halves(text: str, start: int, end: int, chunker: Chunker) -> list[tuple[int, int, int]]:
    """Split ``text[start:end]`` by characters until every piece fits the token budget."""
    if end - start <= 1:
        return [(start, end, chunker.count_tokens([text[start:end]])[0])]
    middle = (start + end) // 2
    result: list[tuple[int, int, int]] = []
    for piece_start, piece_end in ((start, middle), (middle, end)):
        piece = text[piece_start:piece_end]
        if not piece.strip():
            continue
        count = chunker.count_tokens([piece])[0]
        if count > chunker.settings.max_tokens:
            result.extend(_halves(text, piece_start, piece_end, chunker))
        else:
            result.append((piece_start, piece_end, count))
    return result
