"""What a search returns: a chunk with its article, its score, and the sentence(s) to quote."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from corpus.types import Article, Chunk


@dataclass(frozen=True, slots=True)
class Quote:
    """The exact sentence(s) of a chunk that best answer the question.

    ``article.text[start:end] == text`` and the span lies inside its chunk.
    """

    text: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Passage:
    """One ranked search result.

    Attributes:
        chunk: The retrieved span of the article (verbatim).
        article: Its article (title, date, source, url).
        score: Rank score of the search mode; higher is better, comparable within one search only.
        quote: The best-matching sentence(s) inside the chunk.
        relevance: Cosine similarity of question and chunk embeddings, whatever the mode: a
            mode-independent signal for deciding that nothing relevant was found.
        duplicates: Other articles whose matching passage is nearly the same text (the same
            story from other outlets), collapsed into this one so results stay diverse.
    """

    chunk: Chunk
    article: Article
    score: float
    quote: Quote
    relevance: float = 0.0
    duplicates: tuple[Article, ...] = ()

    def as_record(self) -> dict[str, Any]:
        """The passage as plain data (JSON output of the CLI, LangChain metadata): what is needed to cite it."""
        article = self.article
        return {"article_id": article.id, "title": article.title,
                "date": article.date.isoformat() if article.date else None, "source": article.source,
                "url": article.url, "score": self.score, "relevance": self.relevance, "start": self.chunk.start,
                "end": self.chunk.end, "quote": self.quote.text,
                "also_reported_by": [{"source": a.source, "url": a.url, "article_id": a.id} for a in self.duplicates]}
