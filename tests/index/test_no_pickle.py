"""Opening and searching an index never unpickles: a planted pickle in an index folder would run code."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from index import IndexSettings, Retriever


def refuse_unpickling(*args: Any, **kwargs: Any) -> None:
    raise AssertionError("something unpickled while opening or searching an index")


def test_opening_and_searching_an_index_never_unpickles(small_index: Path, tiny_model_dir: Path, tiny_embedder,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    real_load = np.load
    arrays: list[str] = []

    def load_without_pickle(file: Any, *args: Any, **kwargs: Any) -> Any:
        assert not args, "allow_pickle passed positionally"
        assert kwargs.get("allow_pickle") is False, f"np.load({file}) without allow_pickle=False"
        arrays.append(str(file))
        return real_load(file, **kwargs)

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, refuse_unpickling)
    monkeypatch.setattr(np, "load", load_without_pickle)
    settings = IndexSettings(embedding_model=str(tiny_model_dir), _env_file=None)
    retriever = Retriever.open(small_index, settings=settings, embedder=tiny_embedder, verify=True)
    try:
        for mode in ("dense", "lexical", "hybrid"):
            assert retriever.search("ماذا قال وزير الخارجية عن سوريا؟", k=3, mode=mode), mode
    finally:
        retriever.close()
    assert any(path.endswith(".npy") for path in arrays), "the BM25 arrays were read through np.load"
