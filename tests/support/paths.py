"""Where the real data the tests read in place lives (``../shared`` beside the repository)."""

from __future__ import annotations

import json
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = REPO_ROOT.parent / "shared"
NEWS_SAMPLE = SHARED / "data" / "news" / "ant_multisource.sample300.jsonl"
NEWS_ARCHIVE = SHARED / "data" / "news" / "ant_multisource.jsonl"
NEWS_HEADLINES = SHARED / "data" / "news" / "ant_multisource.sample300.headlines.jsonl"
QA_DIR = SHARED / "data" / "qa"
SEED_PAGE = REPO_ROOT / "corpus" / "sample" / "000_1737d019b6254664.txt"


def read_news(limit: int | None = None) -> list[dict]:
    """Records of the shared 300-article sample, read in place."""
    lines = NEWS_SAMPLE.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines[:limit]]
