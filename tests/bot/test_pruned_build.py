"""A Milvus replica whose build was pruned under it reloads and asks again (security review, finding 7)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import bot.answerer as answerer_module
from bot.answerer import Answerer, ReloadResult
from bot.settings import BotSettings
from index import StoreUnavailable


def test_a_search_on_a_removed_collection_reloads_and_is_answered(make_settings: Callable[..., BotSettings],
                                                                 tiny_embedder: Any,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    answerer = Answerer.open(make_settings(), embedder=tiny_embedder)
    real_run = answerer_module.run_plan
    calls: list[str] = []

    def run_plan(retriever: Any, plan: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append("search")
        if len(calls) == 1:
            raise StoreUnavailable("milvus.db", "searching failed: collection 'akh_c_old' does not exist")
        return real_run(retriever, plan, *args, **kwargs)

    reloads: list[int] = []

    def reload() -> ReloadResult:
        reloads.append(1)
        return ReloadResult(answerer.build_id, swapped=True)

    monkeypatch.setattr(answerer_module, "run_plan", run_plan)
    monkeypatch.setattr(answerer, "reload", reload)
    answer = answerer.answer("أسعار النفط")
    assert answer.passages, "asked again on the reloaded build"
    assert (calls, reloads) == (["search", "search"], [1])

    def broken(retriever: Any, plan: Any, *args: Any, **kwargs: Any) -> Any:
        raise StoreUnavailable("milvus.db", "searching failed: the server is unreachable")

    monkeypatch.setattr(answerer_module, "run_plan", broken)
    with pytest.raises(StoreUnavailable, match="unreachable"):
        answerer.answer("أسعار النفط")
    assert reloads == [1], "only a removed collection is worth a reload"
