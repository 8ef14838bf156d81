"""Chunking: exact offsets always (property test), sentence boundaries, token budget, overlap."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus import Article, Chunker, ChunkerSettings, read_corpus
from corpus.sentences import sentence_spans
from tests.support.paths import NEWS_SAMPLE, SEED_PAGE

ARABIC_WORDS = ["الجيش", "الروسي", "كيم", "جونج", "أون", "وعد", "بدعم", "ثابت", "موسكو", "كييف", "٢٠٢٤",
                "2018", "الإمارات", "مُحَمَّد", "فلسطين", "الـ30", "U.S.", "3.5", "«قال»"]
SEPARATORS = [" ", " ", " ", ". ", "؟ ", "! ", "؛ ", "… ", "\n", "\n\n", "، ", "  ", "\t", ".\n", "؟»\n"]

article_texts = st.lists(st.tuples(st.sampled_from(ARABIC_WORDS), st.sampled_from(SEPARATORS)), min_size=1,
                         max_size=400).map(lambda pairs: "".join(w + s for w, s in pairs))


@settings(max_examples=300, deadline=None)
@pytest.mark.fuzz
@given(text=article_texts, max_tokens=st.integers(16, 120), overlap=st.integers(0, 7))
def test_chunk_text_is_always_the_exact_article_slice(text: str, max_tokens: int, overlap: int) -> None:
    chunker = Chunker(settings=ChunkerSettings(max_tokens=max_tokens, overlap_tokens=overlap))
    article = Article(id="a", title="", text=text)
    chunks = chunker.chunk(article)
    for chunk in chunks:
        assert article.text[chunk.start:chunk.end] == chunk.text
        assert chunk.text == chunk.text.strip()
        assert chunk.text
    # Every word of the article is in some chunk, in order.
    covered = "".join(text[c.start:c.end] + " " for c in chunks)
    assert set(text.split()) <= set(covered.split())
    assert [c.start for c in chunks] == sorted(c.start for c in chunks)


@settings(max_examples=100, deadline=None)
@pytest.mark.fuzz
@given(text=article_texts)
def test_chunks_respect_the_token_budget(text: str) -> None:
    chunker = Chunker(settings=ChunkerSettings(max_tokens=40, overlap_tokens=8))
    for chunk in chunker.chunk(Article(id="a", title="", text=text)):
        assert sum(chunker.count_tokens([chunk.text[s:e] for s, e in _sentences(chunk.text)])) <= 40 or \
            len(chunk.text.split()) <= 1


def _sentences(text: str) -> list[tuple[int, int]]:
    return sentence_spans(text)


def test_arabic_sentence_boundaries() -> None:
    text = "قال الرئيس: نعم. هل ستأتي؟ بالتأكيد! ثم؛ وأخيرا… انتهى\nسطر جديد 3.5 بالمئة."
    sentences = [text[s:e] for s, e in sentence_spans(text)]
    assert sentences == ["قال الرئيس: نعم.", "هل ستأتي؟", "بالتأكيد!", "ثم؛", "وأخيرا…", "انتهى",
                         "سطر جديد 3.5 بالمئة."]


@pytest.mark.parametrize(("text", "expected"), [
    ("وقال القس بول ت. ستالسوورث إنه متفائل. ثم غادر.", ["وقال القس بول ت. ستالسوورث إنه متفائل.", "ثم غادر."]),
    ("كتب المؤرخ فريديريك و. موت أن النظام مضلل.", ["كتب المؤرخ فريديريك و. موت أن النظام مضلل."]),
    ("Frederick W. Mote wrote it. Then", ["Frederick W. Mote wrote it.", "Then"]),
    # After a year, "م." is the era (ميلادي) and ends the sentence.
    ("ولد عام 1988 م. وفي عام 2000 انتقل.", ["ولد عام 1988 م.", "وفي عام 2000 انتقل."]),
])
def test_an_initial_does_not_end_a_sentence(text: str, expected: list[str]) -> None:
    assert [text[s:e] for s, e in sentence_spans(text)] == expected


def test_real_articles_chunk_on_sentence_boundaries_with_overlap(tiny_embedder) -> None:
    chunker = Chunker(tiny_embedder.count_tokens, ChunkerSettings(max_tokens=120, overlap_tokens=30))
    articles = read_corpus([NEWS_SAMPLE, SEED_PAGE]).articles
    overlapping = 0
    for article in articles:
        chunks = chunker.chunk(article)
        assert chunks, article.id
        for chunk in chunks:
            assert article.text[chunk.start:chunk.end] == chunk.text
            assert max(tiny_embedder.count_tokens([chunk.text])) <= 120 + 8  # joins add a few tokens at most
            before = article.text[chunk.start - 1] if chunk.start else "\n"
            assert before.isspace() or before in ".؟!؛…", (article.id, chunk.text[:30])
        overlapping += sum(b.start < a.end for a, b in zip(chunks, chunks[1:], strict=False))
    assert overlapping > 50


def test_long_sentence_without_punctuation_is_cut_at_words() -> None:
    text = " ".join(["كلمة"] * 1000)
    chunks = Chunker(settings=ChunkerSettings(max_tokens=50, overlap_tokens=0)).chunk(Article("a", "", text))
    assert len(chunks) >= 20
    assert all(c.text == text[c.start:c.end] and len(c.text.split()) <= 27 for c in chunks)


def test_invalid_settings_quote_the_bad_value() -> None:
    import pytest

    with pytest.raises(ValueError, match="`600`"):
        ChunkerSettings(max_tokens=600)
    with pytest.raises(ValueError, match="`100`"):
        ChunkerSettings(max_tokens=200, overlap_tokens=100)
