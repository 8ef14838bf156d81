"""Builders of Bot API update JSON (what Telegram would send): Arabic messages, commands, button presses.

Entity offsets are in UTF-16 code units, as Telegram counts them, so mentions after Arabic text
or emoji land where PTB expects them.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

from tests.bot.fake_telegram import BOT_USER, BOT_USERNAME, chat
from tests.bot.telegram_html import utf16_len

_message_ids = itertools.count(1)
_query_ids = itertools.count(1)


def user(user_id: int) -> dict[str, Any]:
    """A human user."""
    return {"id": user_id, "is_bot": False, "first_name": "قارئ", "language_code": "ar"}


def _entities(text: str) -> list[dict[str, Any]]:
    entities = []
    if text.startswith("/"):
        command = text.split(maxsplit=1)[0]
        entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(command)})
    mention = f"@{BOT_USERNAME}"
    if mention in text:
        at = text.index(mention)
        entities.append({"type": "mention", "offset": utf16_len(text[:at]), "length": utf16_len(mention)})
    return entities


def message_update(text: str, *, chat_id: int, user_id: int | None = None, reply_to_bot: bool = False,
                   reply_to: int | None = None) -> dict[str, Any]:
    """A new text message (private when ``chat_id`` > 0, else a supergroup), entities filled in.

    ``reply_to_bot`` makes it a reply to some earlier message of the bot; ``reply_to`` to the bot's
    message with that id.
    """
    message: dict[str, Any] = {"message_id": next(_message_ids), "date": int(time.time()), "chat": chat(chat_id),
                               "from": user(user_id or abs(chat_id)), "text": text}
    if entities := _entities(text):
        message["entities"] = entities
    if reply_to_bot or reply_to is not None:
        message["reply_to_message"] = {"message_id": reply_to if reply_to is not None else next(_message_ids),
                                       "date": int(time.time()), "chat": chat(chat_id), "from": BOT_USER,
                                       "text": "جواب سابق"}
    return {"message": message}


def inline_update(query: str, *, user_id: int, chat_type: str = "private") -> dict[str, Any]:
    """An inline query (``@bot query`` typed in a chat of ``chat_type``); its id is returned in the update."""
    return {"inline_query": {"id": f"iq{next(_query_ids)}", "from": user(user_id), "query": query, "offset": "",
                             "chat_type": chat_type}}


def callback_update(data: str, *, chat_id: int, user_id: int | None = None, message_id: int = 1) -> dict[str, Any]:
    """A press on an inline button under the bot's message ``message_id``."""
    return {"callback_query": {
        "id": str(next(_query_ids)), "from": user(user_id or abs(chat_id)), "chat_instance": f"ci{chat_id}",
        "data": data, "message": {"message_id": message_id, "date": int(time.time()), "chat": chat(chat_id),
                                  "from": BOT_USER, "text": "…"}}}
