"""The follow store (SQLite behind the FollowStore interface) and the push rules of bot.alerts, in isolation."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from telegram.error import BadRequest, Forbidden, TimedOut

from bot.alerts import Match, added_article_ids, chat_gone, plan_pushes, push_note, story_keys, window
from bot.follow import Follow, FollowStore, SqliteFollowStore
from bot.settings import BotSettings
from corpus.types import Article, Chunk
from index import Passage, Quote

DAY = date(2026, 12, 3)


def _passage(article_id: str, relevance: float, title: str | None = None,
             duplicates: tuple[Article, ...] = ()) -> Passage:
    text = f"نص الخبر {article_id} كما ورد."
    article = Article(article_id, title or f"عنوان {article_id}", text, datetime(2018, 7, 1, tzinfo=UTC),
                      "BBC", f"https://example.test/{article_id}")
    return Passage(Chunk(f"{article_id}:0", article_id, text, 0, len(text)), article, relevance,
                   Quote(text, 0, len(text)), relevance, duplicates)


def _follow(follow_id: int, chat_id: int, topic: str = "موضوع") -> Follow:
    return Follow(follow_id, chat_id, topic, "")


def test_the_sqlite_store_keeps_follows_pushes_and_votes_across_reopening(tmp_path: Path) -> None:
    path = tmp_path / "follows.sqlite"
    store: FollowStore = SqliteFollowStore(path)
    first = store.add(1, "أسعار النفط", max_topics=2)
    assert first is not None
    assert store.add(1, "الانتخابات", max_topics=2) is not None
    assert store.add(1, "ثالث", max_topics=2) is None, "the per-chat cap holds"
    assert store.add(2, "أسعار النفط", max_topics=2) is not None, "the cap is per chat"
    assert store.remove(2, first.id) is None, "another chat cannot stop this chat's follow"
    store.record_push(1, ["a:x", "t:عنوان"], DAY)
    store.record_vote(good=True)
    store.record_vote(good=False)
    store.close()

    reopened = SqliteFollowStore(path)
    assert [f.topic for f in reopened.follows(1)] == ["أسعار النفط", "الانتخابات"]
    assert reopened.seen(1, ["t:عنوان"])
    assert not reopened.seen(2, ["a:x"]), "stories are remembered per chat"
    assert reopened.pushes_on(1, DAY) == 1
    assert reopened.pushes_on(1, date(2026, 12, 4)) == 0, "the cap counts one UTC day"
    counts = reopened.counts()
    assert (counts.follows, counts.chats, counts.pushes, counts.good, counts.bad) == (3, 2, 1, 1, 1)
    removed = reopened.remove(1, first.id)
    assert removed is not None
    assert removed.topic == "أسعار النفط"
    assert reopened.drop_chat(1) == 1
    assert reopened.follows(1) == []
    assert not reopened.seen(1, ["a:x"])
    assert [f.chat_id for f in reopened.every_follow()] == [2]
    reopened.close()


def test_one_message_per_chat_at_most_three_articles_best_first() -> None:
    matches = [Match(_follow(1, 10, "أ"), _passage(f"n{n}", 0.9 + n / 100)) for n in range(5)]
    matches.append(Match(_follow(2, 20, "ب"), _passage("n0", 0.95)))
    pushes = {p.chat_id: p for p in plan_pushes(matches, lambda chat, keys: False)}
    assert [p.article.id for p in pushes[10].passages] == ["n4", "n3", "n2"]
    assert [p.article.id for p in pushes[20].passages] == ["n0"]
    assert pushes[10].topics == ["أ"]


def test_a_story_already_pushed_or_repeated_by_another_outlet_is_not_pushed_again() -> None:
    same_title = "عنوان واحد لخبر واحد"
    copy = Article("other-outlet", same_title, "نص", None, "CNN", "https://example.test/o")
    matches = [Match(_follow(1, 10, "أ"), _passage("n1", 0.95, same_title, duplicates=(copy,))),
               Match(_follow(2, 10, "ب"), _passage("n1", 0.93, same_title)),   # the same article, another topic
               Match(_follow(1, 10, "أ"), _passage("n2", 0.92, same_title)),   # another outlet, same headline
               Match(_follow(1, 10, "أ"), _passage("n3", 0.91))]
    already = {"a:n3"}
    [push] = plan_pushes(matches, lambda chat, keys: bool(already & set(keys)))
    assert [p.article.id for p in push.passages] == ["n1"]
    assert push.topics == ["أ", "ب"], "both topics are named on the one passage"
    assert "a:other-outlet" in push.story_keys, "the folded outlet is remembered too"
    assert [a.id for a in push.passages[0].duplicates] == ["other-outlet", "n2"], "also reported by"
    assert "a:n2" in push.story_keys
    assert set(story_keys(push.passages[0])) <= set(push.story_keys)


def test_what_is_new_and_the_days_searched() -> None:
    assert added_article_ids({"a": "1", "b": "2"}, {"a": "1", "b": "2", "c": "3"}, ["z"]) == ["c"]
    assert added_article_ids({}, {}, ["x", "y", "x"]) == ["x", "y"], "Milvus: the feed run's own articles"
    dated = [Article("x", "t", "n", datetime(2018, 7, 1, 23, tzinfo=UTC)),
             Article("y", "t", "n", datetime(2018, 7, 3, tzinfo=UTC))]
    filters = window(dated)
    assert (filters.since, filters.until) == (date(2018, 6, 30), date(2018, 7, 4))
    assert not window([*dated, Article("z", "t", "n")]), "an undated new article: no day filter"


def test_the_push_bar_is_never_below_the_no_answer_threshold(tmp_path: Path) -> None:
    settings = BotSettings(_env_file=None, follow_threshold=0.5, no_answer_threshold=0.855,
                           feedback_db=tmp_path / "fb" / "feedback.sqlite")
    assert settings.push_threshold == 0.855
    assert BotSettings(_env_file=None, no_answer_threshold=0.855).push_threshold == 0.88
    assert settings.follow_path == tmp_path / "fb" / "follows.sqlite", "beside the feedback store"


def test_blocked_and_deleted_chats_are_told_apart_from_passing_faults() -> None:
    assert chat_gone(Forbidden("Forbidden: bot was blocked by the user"))
    assert chat_gone(BadRequest("Bad Request: chat not found"))
    assert not chat_gone(BadRequest("Bad Request: message is too long"))
    assert not chat_gone(TimedOut())


def test_the_push_line_names_the_topics_right_to_left() -> None:
    note = push_note(["أسعار النفط", "Apple و سامسونغ"])
    assert note.startswith("خبر جديد")
    assert "«أسعار النفط» و«" in note
    assert "\u2068Apple\u2069" in note, "Latin runs are isolated"
