"""Index fixtures: small real-article corpora and an index built from them with the tiny model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest



def write_jsonl(path: Path, records: list[dict]) -> Path:
    """Write records as the archive's JSONL."""
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    return path



@pytest.fixture(scope="session")
def small_index(tmp_path_factory: pytest.TempPathFactory, tiny_embedder, news_records) -> Path:  # noqa: ANN001
    """An index of 60 real articles built with the tiny model (read-only for tests)."""
    from index import build_index

    folder = tmp_path_factory.mktemp("small-index")
    corpus = write_jsonl(folder / "news.jsonl", news_records[:60])
    build_index([corpus], folder / "index", tiny_embedder)
    return folder / "index"
