"""The answerer: pages, the no-answer rule, and hot reload of a switched index build."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.answerer import Answerer, question_refusal, top_relevance
from bot.settings import BotSettings
from index import BadQuery, Retriever, build_index
from index.stores.faiss.layout import current_build_id
from tests.bot.helpers import question_from
from tests.support.corpora import write_jsonl


def test_pages_follow_each_other_without_repeats(make_settings: Callable[..., BotSettings], tiny_embedder,
                                                 known_articles) -> None:
    answerer = Answerer.open(make_settings(results_per_answer=2), tiny_embedder)
    question = question_from(known_articles[5])
    first = answerer.answer(question)
    second = answerer.answer(question, offset=first.next_offset)
    assert first.answered
    assert first.has_more
    assert len(first.passages) == 2
    assert first.passages[0].article.id == known_articles[5].id
    assert second.offset == 2
    assert len(second.passages) == 2
    ids = [p.article.id for p in first.passages + second.passages]
    assert len(set(ids)) == 4
    assert first.build_id == answerer.build_id


def test_below_the_threshold_is_no_answer(make_settings: Callable[..., BotSettings], tiny_embedder,
                                          known_articles) -> None:
    question = question_from(known_articles[0])
    relevance = top_relevance(Answerer.open(make_settings(), tiny_embedder).answer(question).passages)
    assert -1.0 < relevance < 1.0
    assert Answerer.open(make_settings(no_answer_threshold=relevance), tiny_embedder).answer(question).answered
    above = Answerer.open(make_settings(no_answer_threshold=relevance + 1e-4), tiny_embedder)
    assert not above.answer(question).answered
    assert top_relevance([]) == -1.0
    beyond = Answerer.open(make_settings(no_answer_threshold=-1.0), tiny_embedder).answer(question, offset=99)
    assert beyond.passages == ()
    assert not beyond.answered, "an empty page is no answer"
    assert not beyond.has_more


def test_bad_questions(make_settings: Callable[..., BotSettings], tiny_embedder) -> None:
    answerer = Answerer.open(make_settings(), tiny_embedder)
    assert question_refusal("   ") is not None
    template, values = question_refusal("س" * 2001)
    assert "2001" in values["length"]
    assert "2000" in values["limit"]
    assert question_refusal("ما الخبر؟") is None
    with pytest.raises(BadQuery):
        answerer.answer("؟؟ !!")


def _build(index_dir: Path, records: list[dict], embedder, tmp_path: Path, name: str) -> str:
    build_index([write_jsonl(tmp_path / f"{name}.jsonl", records)], index_dir, embedder)
    return Path(current_build_id(index_dir) or "").name


def test_hot_reload_swaps_builds_and_survives_a_broken_one(tmp_path: Path, tiny_embedder, tiny_model_dir: Path,
                                                           news_records: list[dict]) -> None:
    index_dir = tmp_path / "index"
    first_build = _build(index_dir, news_records[100:105], tiny_embedder, tmp_path, "one")
    settings = BotSettings(_env_file=None, index_dir=index_dir, embedding_model=str(tiny_model_dir),
                           search_mode="lexical", no_answer_threshold=-1.0, reload_check_seconds=0)
    answerer = Answerer.open(settings, tiny_embedder)
    new_article = news_records[110]
    question = f"ماذا جاء في الخبر: {new_article['title']}"
    assert answerer.build_id == first_build
    assert not answerer.reload_due()
    old_retriever = answerer.retriever

    second_build = _build(index_dir, news_records[108:113], tiny_embedder, tmp_path, "two")
    assert answerer.reload_due()
    result = answerer.reload()
    assert result.swapped
    assert answerer.build_id == second_build != first_build
    assert answerer.retriever is not old_retriever
    assert answerer.answer(question).passages[0].article.id == new_article["id"]
    old_question = f"ماذا جاء في الخبر: {news_records[100]['title']}"
    assert old_retriever.search(old_question, k=1)[0].article.id == news_records[100]["id"], \
        "a question in flight on the old build must still work"
    assert not answerer.reload().swapped, "nothing new to load"

    broken = index_dir / "builds" / "broken"
    broken.mkdir()
    (broken / "manifest.json").write_text("{not json", encoding="utf-8")
    os.symlink(Path("builds") / "broken", index_dir / "current.tmp")
    os.replace(index_dir / "current.tmp", index_dir / "current")
    assert answerer.reload_due()
    failed = answerer.reload()
    assert not failed.swapped
    assert failed.error
    assert "manifest.json" in failed.error
    assert answerer.build_id == second_build
    assert answerer.answer(question).passages[0].article.id == new_article["id"], "the old build keeps serving"
    assert not answerer.reload_due(), "a build that failed is not retried until current changes again"


def test_reload_checks_are_rate_limited(make_settings: Callable[..., BotSettings], tiny_embedder) -> None:
    answerer = Answerer.open(make_settings(reload_check_seconds=3600), tiny_embedder)
    calls = []
    answerer._current_build = lambda: calls.append(1) or "another"  # type: ignore[method-assign]
    assert not answerer.reload_due()
    assert calls == []


def test_a_build_pruned_while_it_was_being_opened_is_not_called_damaged(
        tmp_path: Path, tiny_embedder, tiny_model_dir: Path, news_records: list[dict], monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """Review finding #13: two publishes during a reload prune the build it was opening."""
    index_dir = tmp_path / "index"
    first = _build(index_dir, news_records[100:103], tiny_embedder, tmp_path, "a")
    settings = BotSettings(_env_file=None, index_dir=index_dir, embedding_model=str(tiny_model_dir),
                           search_mode="lexical", no_answer_threshold=-1.0, reload_check_seconds=0)
    answerer = Answerer.open(settings, tiny_embedder)
    second = _build(index_dir, news_records[103:106], tiny_embedder, tmp_path, "b")
    original = Retriever.open
    opened: list[str] = []
    newer: list[str] = []

    def racing(path, **kwargs):  # noqa: ANN001, ANN003, ANN202 - the classmethod's signature
        opened.append(Path(current_build_id(index_dir) or "").name)
        if len(opened) == 1:  # the reload read "current" (the second build); two builds publish meanwhile
            newer.extend(_build(index_dir, news_records[n:n + 3], tiny_embedder, tmp_path, f"c{n}") for n in (106, 109))
            assert not (index_dir / "builds" / second).exists(), "the build being opened was pruned"
            return original(index_dir / "builds" / second, **kwargs)
        return original(path, **kwargs)

    monkeypatch.setattr("bot.answerer.Retriever.open", racing)
    caplog.set_level(logging.INFO, logger="bot.answerer")
    assert answerer.build_id == first
    result = answerer.reload()
    assert result.swapped, result
    assert result.error is None
    assert answerer.build_id == newer[-1], "it went on with the build that replaced the pruned one"
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == [], "no false 'damaged, rebuild it'"
    assert "was replaced by" in caplog.text
    assert answerer.answer(f"ماذا جاء في الخبر: {news_records[110]['title']}").passages
