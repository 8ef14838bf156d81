"""Articles in, clean articles and chunks out: readers, Arabic text utilities, chunking.

Knows nothing of indexes or Telegram. Also ships the bundled sample corpus (``corpus/sample``).
"""

import logging
from pathlib import Path

from corpus.chunking import Chunker, ChunkerSettings, approximate_token_counter
from corpus.readers import read_corpus
from corpus.types import Article, Chunk, CorpusReport, RepairedInput, SkippedInput

logging.getLogger(__name__).addHandler(logging.NullHandler())

#: The user's seed page, the corpus the README's first command indexes.
SAMPLE_CORPUS = Path(__file__).resolve().parent / "sample"

__all__ = [
    "SAMPLE_CORPUS",
    "Article",
    "Chunk",
    "Chunker",
    "ChunkerSettings",
    "CorpusReport",
    "RepairedInput",
    "SkippedInput",
    "approximate_token_counter",
    "read_corpus",
]
