"""Search plans: time words to a period, follow-ups completed from the previous turn, and the re-rankings."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest

from bot.followup import make_plan, own_words
from bot.memory import Turn
from corpus.types import Article, Chunk
from index import Passage, Quote
from index.search.plan import SearchPlan, fuse_rankings, newest_first, prefer_articles, rerank
from index.search.timeexpr import TimeRange

REFERENCE = date(2018, 10, 18)
LAST_WEEK = TimeRange(date(2018, 10, 6), date(2018, 10, 12), "الأسبوع الماضي (٦–١٢ أكتوبر ٢٠١٨)")
GAS = Turn(query="ما قيمة صفقة الغاز التي وقعتها إسرائيل لتصدير الغاز الطبيعي إلى مصر؟",
           article_ids=("BB-middleEast-48-20180219", "CN-economy-21-20180219"))


def test_time_words_become_the_period_and_leave_the_query() -> None:
    plan = make_plan("  ماذا حدث في سوريا الأسبوع الماضي؟ ", REFERENCE)
    assert plan == SearchPlan("ماذا حدث في سوريا الأسبوع الماضي؟", "ماذا حدث في سوريا؟", LAST_WEEK)
    assert make_plan("ماذا حدث في سوريا الأسبوع الماضي؟", None).period is None, "no dated article, no filter"


def test_a_question_left_without_words_keeps_its_time_words() -> None:
    plan = make_plan("آخر الأخبار", REFERENCE)
    assert plan.latest
    assert plan.query == "آخر الأخبار"


def test_a_follow_up_gets_the_previous_words_period_and_own_quote_words() -> None:
    previous = replace(GAS, period=LAST_WEEK)
    plan = make_plan("ومتى؟", REFERENCE, previous)
    assert plan.followup == "conjunction"
    assert plan.query == "ومتى؟ قيمة صفقة الغاز وقعتها إسرائيل لتصدير"
    assert plan.context_words == ("قيمة", "صفقة", "الغاز", "وقعتها", "إسرائيل", "لتصدير")
    assert plan.period == LAST_WEEK, "the follow-up searches the same period"
    assert plan.prefer == ("BB-middleEast-48-20180219",)
    assert plan.own_words == "متى؟", "its quotes answer 'when'"
    assert not plan.also_alone


def test_a_follow_up_naming_its_own_subject_is_also_searched_alone() -> None:
    plan = make_plan("وماذا قال وزير الطاقة الإسرائيلي عنها في مارس 2018؟", REFERENCE, replace(GAS, period=LAST_WEEK))
    assert plan.also_alone
    assert plan.own_words == "ماذا قال وزير الطاقة الإسرائيلي عنها؟"
    assert plan.prefer == ()
    assert plan.period == TimeRange(date(2018, 3, 1), date(2018, 3, 31), "مارس ٢٠١٨"), \
        "its own period wins"


def test_a_standalone_question_is_not_changed_by_context() -> None:
    question = "بكم بيعت أغلى زجاجة ويسكي في العالم في مزاد إدنبره؟"
    assert make_plan(question, REFERENCE, GAS) == make_plan(question, REFERENCE) == SearchPlan(
        question, question, question_type="how_much")


def test_a_latest_follow_up_does_not_keep_the_old_period() -> None:
    plan = make_plan("وما آخر الأخبار عنها؟", REFERENCE, replace(GAS, period=LAST_WEEK))
    assert plan.latest
    assert plan.period is None


def test_own_words() -> None:
    assert own_words("ومتى؟") == "متى؟"
    assert own_words("وماذا عن بورصة شنغهاي؟") == "ماذا عن بورصة شنغهاي؟"
    assert own_words("والسعر الرسمي؟") == "والسعر الرسمي؟", "و + a content word stays"
    assert own_words("وزير الخارجية") == "وزير الخارجية"


def passage(article_id: str, score: float, relevance: float = 0.9, day: int | None = 1) -> Passage:
    text = f"نص الخبر {article_id}."
    article = Article(id=article_id, title=article_id, text=text, source="BBC",
                      date=datetime(2018, 10, day) if day else None)
    return Passage(chunk=Chunk(f"{article_id}#0", article_id, text, 0, len(text)), article=article, score=score,
                   quote=Quote(text, 0, len(text)), relevance=relevance)


def ids(passages: list[Passage]) -> list[str]:
    return [p.article.id for p in passages]


def test_fusing_two_rankings_keeps_one_passage_per_article() -> None:
    first = [passage("a", 3.0), passage("b", 2.0), passage("c", 1.0)]
    second = [passage("c", 9.0), passage("d", 8.0), passage("a", 7.0)]
    fused = fuse_rankings(first, second)
    assert ids(fused) == ["a", "c", "b", "d"]
    assert fused[1].score == pytest.approx(1 / 8 + 1 / 6)
    assert fused[1].chunk is first[2].chunk, "the first ranking's passage is kept"


def test_preferred_articles_get_a_bonus_within_the_pool() -> None:
    found = [passage("a", 1.0), passage("b", 0.9), passage("c", 0.5)]
    assert ids(prefer_articles(found, ["b"], bonus=0.25)) == ["b", "a", "c"]
    assert ids(prefer_articles(found, ["c"], bonus=0.25)) == ["a", "b", "c"]
    assert ids(prefer_articles(found, ["c"], bonus=0.25, pool=2)) == ["a", "b", "c"]
    twin = replace(found[2], duplicates=(passage("z", 0).article,))
    assert ids(prefer_articles([found[0], twin], ["z"], bonus=1.5)) == ["c", "a"], "a duplicate counts"


def test_latest_questions_show_the_newest_among_the_most_relevant() -> None:
    found = [passage("old", 3.0, 0.90, day=1), passage("new", 2.0, 0.89, day=15), passage("newest", 1.0, 0.80, day=17),
             passage("undated", 0.5, 0.90, day=None)]
    assert ids(newest_first(found, margin=0.02)) == ["new", "old", "undated", "newest"]
    assert newest_first([]) == []
    plan = SearchPlan("ما آخر الأخبار؟", "ما الأخبار؟", latest=True)
    assert ids(rerank(plan, found, [])) == ["new", "old", "undated", "newest"]
