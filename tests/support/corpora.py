"""Small real-article corpora written for a test, and the same-answers check of update-equals-rebuild tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

QUESTIONS = ["ماذا قال تامر حسني عن حفله في السعودية؟", "من هي خطيبة كاظم الساهر؟", "أسعار النفط",
             "مباراة ريال مدريد", "فيسبوك وبيانات المستخدمين", "الانتخابات", "سوريا", "كوريا الشمالية"]


def write_jsonl(path: Path, records: list[dict]) -> Path:
    """Write records as the archive's JSONL."""
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    return path


def edited_corpus(records: list[dict], size: int) -> tuple[list[dict], list[dict]]:
    """The first ``size`` records, and a next version: a body grown, a title changed, one article gone, three new."""
    original = records[:size]
    changed = [dict(r) for r in original]
    changed[5]["text"] = changed[5]["text"] + "\nوأضاف المتحدث أن المفاوضات ستستأنف الأسبوع المقبل."
    changed[7]["title"] = "عنوان معدل: " + changed[7]["title"]
    del changed[12]
    changed.extend(records[size:size + 3])
    return original, changed


def assert_same_answers(a: Any, b: Any) -> None:
    """Both retrievers give the same chunks, quotes and scores for :data:`QUESTIONS` in every mode."""
    for question in QUESTIONS:
        for mode in ("dense", "lexical", "hybrid"):
            x, y = a.search(question, k=5, mode=mode), b.search(question, k=5, mode=mode)
            assert [p.chunk.id for p in x] == [p.chunk.id for p in y], (question, mode)
            assert [p.quote for p in x] == [p.quote for p in y]
            np.testing.assert_allclose([p.score for p in x], [p.score for p in y], atol=1e-4)
