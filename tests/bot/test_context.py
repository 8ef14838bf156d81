"""Conversation stores: last turns, expiry, LRU, replies found by chat, /new, and no raw ids on disk."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from bot.memory import ContextStore, MemoryContext, SqliteContext, Turn, chat_key, conversation_key, open_context
from index.search.timeexpr import TimeRange

SALT = "pepper"
PRIVATE = conversation_key(SALT, 501)
CHAT = chat_key(SALT, 501)


class Clock:
    """A settable time source."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


Factory = Callable[..., ContextStore]


@pytest.fixture(params=["memory", "sqlite"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Factory:
    """Either store, with the same rules."""

    def make(turns: int = 3, minutes: float = 30.0, clock: Clock | None = None) -> ContextStore:
        clock = clock or Clock()
        if request.param == "memory":
            return MemoryContext(turns, minutes, clock=clock)
        return SqliteContext(tmp_path / "context.sqlite", turns, minutes, clock=clock)

    return make


def turn(query: str, at: float, *ids: int, articles: tuple[str, ...] = ("a1",)) -> Turn:
    return Turn(query=query, article_ids=articles, message_ids=ids, at=at)


def test_the_last_turn_is_the_context_and_only_the_last_turns_are_kept(make_store: Factory) -> None:
    clock = Clock()
    store = make_store(turns=2, clock=clock)
    assert store.previous(PRIVATE, CHAT) is None
    for n in range(3):
        store.add(PRIVATE, CHAT, turn(f"سؤال {n}", clock.now + n, 100 + n))
    assert store.previous(PRIVATE, CHAT).query == "سؤال 2"
    assert store.previous(PRIVATE, CHAT, reply_to=101).query == "سؤال 1", "a reply ties to that answer"
    assert store.previous(PRIVATE, CHAT, reply_to=100) is None, "beyond CONTEXT_TURNS"
    assert store.previous(PRIVATE, CHAT, reply_to=999) is None, "a reply to anything else has no context"


def test_turns_expire(make_store: Factory) -> None:
    clock = Clock()
    store = make_store(minutes=30, clock=clock)
    store.add(PRIVATE, CHAT, turn("سؤال", clock.now, 7))
    clock.now += 29 * 60
    assert store.previous(PRIVATE, CHAT) is not None
    clock.now += 2 * 60
    assert store.previous(PRIVATE, CHAT) is None
    assert store.previous(PRIVATE, CHAT, reply_to=7) is None


def test_new_forgets_one_conversation_only(make_store: Factory) -> None:
    clock = Clock()
    store = make_store(clock=clock)
    other = conversation_key(SALT, 502)
    store.add(PRIVATE, CHAT, turn("سؤال", clock.now, 7))
    store.add(other, chat_key(SALT, 502), turn("آخر", clock.now, 8))
    store.clear(PRIVATE)
    assert store.previous(PRIVATE, CHAT) is None
    assert store.previous(PRIVATE, CHAT, reply_to=7) is None
    assert store.previous(other, chat_key(SALT, 502)).query == "آخر"


def test_group_members_have_their_own_context_but_replies_reach_any_answer(make_store: Factory) -> None:
    clock = Clock()
    store = make_store(clock=clock)
    group = chat_key(SALT, -100500)
    alice, bob = conversation_key(SALT, -100500, 11), conversation_key(SALT, -100500, 12)
    assert alice != bob != conversation_key(SALT, -100500)
    store.add(alice, group, turn("سؤال أليس", clock.now, 40, 41))
    assert store.previous(bob, group) is None
    assert store.previous(bob, group, reply_to=41).query == "سؤال أليس"
    assert store.previous(bob, chat_key(SALT, -100600), reply_to=41) is None, "message ids are per chat"


def test_nothing_is_remembered_with_zero_turns(make_store: Factory) -> None:
    store = make_store(turns=0)
    store.add(PRIVATE, CHAT, turn("سؤال", 1_000_000.0, 7))
    assert store.previous(PRIVATE, CHAT) is None


def test_memory_forgets_the_least_recently_used_conversation() -> None:
    clock = Clock()
    store = MemoryContext(capacity=2, clock=clock)
    keys = [conversation_key(SALT, chat) for chat in (1, 2, 3)]
    store.add(keys[0], "c1", turn("١", clock.now))
    store.add(keys[1], "c2", turn("٢", clock.now))
    assert store.previous(keys[0], "c1") is not None  # keys[1] is now the least recently used
    store.add(keys[2], "c3", turn("٣", clock.now))
    assert len(store) == 2
    assert store.previous(keys[1], "c2") is None
    assert store.previous(keys[0], "c1") is not None


@pytest.mark.parametrize(("make", "message"), [
    pytest.param(lambda: MemoryContext(turns=-1), "turns must be >= 0, got -1", id="negative turns"),
    pytest.param(lambda: MemoryContext(minutes=0), "minutes must be > 0, got 0", id="no minutes"),
    pytest.param(lambda: MemoryContext(capacity=0), "capacity must be >= 1, got 0", id="no capacity"),
])
def test_bad_limits_are_refused(make: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


def test_sqlite_keeps_conversations_across_restarts_without_raw_ids(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "context.sqlite"
    clock = Clock()
    user_id, chat_id = 987654321, -1001234567890
    conversation, chat = conversation_key(SALT, chat_id, user_id), chat_key(SALT, chat_id)
    period = TimeRange(date(2018, 10, 6), date(2018, 10, 12), "الأسبوع الماضي (٦–١٢ أكتوبر ٢٠١٨)")
    store = SqliteContext(path, clock=clock)
    store.add(conversation, chat, Turn("ماذا حدث في سوريا؟", ("BB-1", "CN-2"), period, (31, 32), clock.now))
    store.close()

    reopened = open_context(path, 3, 30.0)
    assert isinstance(reopened, SqliteContext)
    reopened._clock = clock  # noqa: SLF001 - the same fake time after the "restart"
    found = reopened.previous(conversation, chat, reply_to=32)
    assert found == Turn("ماذا حدث في سوريا؟", ("BB-1", "CN-2"), period, (31, 32), clock.now)
    reopened.close()
    raw = path.read_bytes()
    for secret in (str(user_id), str(chat_id), str(abs(chat_id))):
        assert secret.encode() not in raw


def test_memory_is_the_default(tmp_path: Path) -> None:
    assert isinstance(open_context(None, 3, 30.0), MemoryContext)
    assert conversation_key("a", 1) != conversation_key("b", 1), "the salt changes every key"
