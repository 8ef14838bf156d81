"""Retriever: ranked passages from distinct articles, exact quotes, filters inside the search."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from index import BadQuery, IndexSettings, Retriever


@pytest.fixture(scope="module", params=["faiss", "milvus"])
def retriever(request: pytest.FixtureRequest, small_index: Path, tiny_model_dir: Path, tiny_embedder,  # noqa: ANN001
              tmp_path_factory: pytest.TempPathFactory) -> Retriever:
    """The 60-article index on each store: FAISS as built, Milvus (Lite) as ``migrate`` copies it."""
    settings = IndexSettings(index_dir=small_index, embedding_model=str(tiny_model_dir), _env_file=None)
    if request.param == "milvus":
        from index.build.migrate import migrate
        from index.stores import open_store

        settings = settings.model_copy(update={"vector_store": "milvus", "milvus_uri": str(
            tmp_path_factory.mktemp("milvus") / "index.db")})
        migrate(open_store(settings.model_copy(update={"vector_store": "faiss"})), open_store(settings))
    return Retriever.open(small_index, settings=settings, embedder=tiny_embedder)


@pytest.mark.parametrize("mode", ["dense", "lexical", "hybrid"])
def test_search_returns_k_distinct_articles_with_exact_quotes(retriever: Retriever, mode: str) -> None:
    passages = retriever.search("ماذا قال تامر حسني عن حفله في السعودية؟", k=5, mode=mode)
    assert len(passages) == 5
    assert len({p.article.id for p in passages}) == 5
    assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)
    for p in passages:
        assert p.article.text[p.chunk.start:p.chunk.end] == p.chunk.text
        assert p.article.text[p.quote.start:p.quote.end] == p.quote.text
        assert p.chunk.start <= p.quote.start < p.quote.end <= p.chunk.end


def test_lexical_search_finds_a_rare_name(retriever: Retriever, news_records) -> None:  # noqa: ANN001
    target = next(r for r in news_records[:60] if "كاظم الساهر" in r["text"])
    passages = retriever.search("كاظم الساهر", k=3, mode="lexical")
    assert target["id"] in [p.article.id for p in passages]
    assert "كاظم" in passages[0].quote.text


def test_source_filter_still_returns_k_when_k_match(retriever: Retriever, news_records) -> None:  # noqa: ANN001
    source = news_records[-1]["source"]
    in_index = {r["source"] for r in news_records[:60]}
    rarest = min(in_index, key=lambda s: sum(r["source"] == s for r in news_records[:60]))
    count = sum(r["source"] == rarest for r in news_records[:60])
    for mode in ("dense", "hybrid"):
        passages = retriever.search("كرة القدم", k=min(count, 4), mode=mode, sources=[rarest])
        assert len(passages) == min(count, 4)
        assert {p.article.source for p in passages} == {rarest}
    assert source  # the archive names its sources


def test_date_filter_is_inclusive(retriever: Retriever, news_records) -> None:  # noqa: ANN001
    day = date.fromisoformat(news_records[0]["date"][:10])
    passages = retriever.search("حفل", k=10, since=day, until=day)
    assert passages
    assert all(p.article.date is not None and p.article.date.date() == day for p in passages)


def test_filter_matching_nothing_returns_nothing(retriever: Retriever) -> None:
    assert retriever.search("سوريا", k=5, sources=["no such outlet"]) == []


@pytest.mark.parametrize("question", ["", "   ", "؟؟؟", "x" * 2001], ids=["empty", "spaces", "punctuation", "huge"])
def test_unsearchable_questions_are_refused_clearly(retriever: Retriever, question: str) -> None:
    with pytest.raises(BadQuery):
        retriever.search(question)


def test_k_out_of_range_is_refused(retriever: Retriever) -> None:
    with pytest.raises(BadQuery, match="k must be"):
        retriever.search("سوريا", k=0)


def test_the_same_story_from_two_outlets_is_folded_into_one_result(
        tmp_path: Path, tiny_embedder, tiny_model_dir: Path, news_records) -> None:  # noqa: ANN001
    from index import build_index
    from tests.support.corpora import write_jsonl

    story = dict(news_records[0])
    copy = dict(story, id="copy-of-" + story["id"], source="OtherOutlet", url="http://example.org/copy")
    corpus = write_jsonl(tmp_path / "news.jsonl", [story, copy, *news_records[1:20]])
    build_index([corpus], tmp_path / "index", tiny_embedder)
    settings = IndexSettings(index_dir=tmp_path / "index", embedding_model=str(tiny_model_dir), _env_file=None)
    retriever = Retriever.open(tmp_path / "index", settings=settings, embedder=tiny_embedder)
    passages = retriever.search(story["title"], k=5, mode="lexical")
    ids = [p.article.id for p in passages]
    assert len(passages) == 5
    assert (story["id"] in ids) != (copy["id"] in ids)  # one of the twins is shown ...
    shown = passages[ids.index(story["id"] if story["id"] in ids else copy["id"])]
    assert [d.id for d in shown.duplicates] in ([copy["id"]], [story["id"]])  # ... the other folded into it
