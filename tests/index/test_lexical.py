"""The BM25 index: built one chunk at a time into compact term ids, scoring exactly as bm25s's own path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import bm25s
import numpy as np

from corpus.arabic import lexical_tokens
from index.stores.lexical import BM25_B, BM25_K1, LexicalIndex

# Real news sentences (MSA) and a reader's dialect phrasing; one chunk has no word at all.
CHUNKS = [
    "أعلنت وزارة الصحة الفلسطينية في غزة ارتفاع عدد الشهداء إلى أكثر من ثلاثين ألفاً منذ بدء الحرب.",
    "قال وزير الخارجية الأمريكي إن المفاوضات بشأن وقف إطلاق النار في غزة ما زالت مستمرة.",
    "فاز المنتخب المغربي على نظيره البرتغالي بهدف نظيف في ربع نهائي كأس العالم.",
    "ارتفعت أسعار النفط بعد قرار أوبك+ خفض الإنتاج مليوني برميل يومياً.",
    "…",
    "وش صار في مفاوضات وقف إطلاق النار؟ شو عم يطلبوا الوسطاء من الطرفين؟",
]
QUESTIONS = ["كم عدد الشهداء في غزة", "وش صار في المفاوضات", "أسعار النفط وأوبك", "كأس العالم المغرب"]


def test_scores_are_those_of_bm25s_indexing_the_token_lists() -> None:
    built = LexicalIndex.build(iter(CHUNKS))  # any iterable: a build hands texts made on demand
    reference = bm25s.BM25(k1=BM25_K1, b=BM25_B)
    reference.index([lexical_tokens(text) or ["\u2205"] for text in CHUNKS], show_progress=False)
    assert built.size == len(CHUNKS)
    for question in QUESTIONS:
        ours = built.scores(question)
        terms = [token for token in lexical_tokens(question) if token in reference.vocab_dict]
        np.testing.assert_allclose(ours, np.asarray(reference.get_scores(terms)), rtol=1e-6)
        assert ours.max() > 0


def test_a_chunk_with_no_word_scores_zero_for_every_question() -> None:
    built = LexicalIndex.build(CHUNKS)
    assert all(built.scores(question)[4] == 0 for question in QUESTIONS)


def test_nothing_to_index_gives_an_empty_index() -> None:
    empty = LexicalIndex.build([])
    assert empty.size == 0
    assert empty.scores("غزة").shape == (0,)


def _saved_files(folder: Path, hash_seed: str) -> dict[str, bytes]:
    script = ("import sys; from pathlib import Path; from index.stores.lexical import LexicalIndex; "
              "LexicalIndex.build(sys.argv[2:]).save(Path(sys.argv[1]))")
    subprocess.run([sys.executable, "-c", script, str(folder), *CHUNKS], check=True,
                   env={"PYTHONHASHSEED": hash_seed, "PATH": "/usr/bin:/bin"}, cwd=Path(__file__).parents[2])
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_the_same_chunks_give_the_same_files_whatever_the_hash_seed(tmp_path: Path) -> None:
    """bm25s numbers terms in set order, which the hash seed shuffles; ours are numbered as they come."""
    assert _saved_files(tmp_path / "one", "1") == _saved_files(tmp_path / "two", "2")
