"""``akhbar-bot``: run the Telegram bot, or answer in the terminal with ``--console``.

Settings come from the environment and ``.env`` (:class:`bot.settings.BotSettings`); flags
override them. Exit codes: 0 done, 1 a clear error (one line), 2 bad usage.

Example:
    akhbar-bot --console                      # no Telegram; builds the sample index on first run
    echo "ماذا وعد كيم جونغ أون الجيش الروسي؟" | akhbar-bot --console
    TELEGRAM_BOT_TOKEN=123:ABC akhbar-bot      # long polling (webhook when WEBHOOK_URL is set)
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from telegram.error import InvalidToken, NetworkError

from bot.logs import REDACTED, configure_bot_logging
from bot.settings import DEFAULT_NO_ANSWER_THRESHOLD, BotSettings
from index import AkhbarIndexError, IndexNotFound
from index.settings import SearchMode
from index.stores import open_store

app = typer.Typer(help="Answer Arabic news questions with verbatim, sourced quotes: in Telegram or the console.",
                  add_completion=False, pretty_exceptions_enable=False)
errors = Console(stderr=True, soft_wrap=True, highlight=False)


def _load_settings(updates: dict[str, object]) -> BotSettings:
    """Environment/.env settings with the given flags on top (flags left unset change nothing)."""
    try:
        settings = BotSettings()
    except ValidationError as error:
        raise _fail(f"invalid setting in the environment or .env: {error}") from None
    return settings.model_copy(update={key: value for key, value in updates.items() if value is not None})


def _fail(message: str, secret: str | None = None) -> typer.Exit:
    """Print a one-line reason (with any secret blanked out) and return the exit-1 exception."""
    if secret:
        message = message.replace(secret, REDACTED)
    errors.print(f"[red]error:[/red] {escape(message)}", markup=True, highlight=False)
    return typer.Exit(1)


@app.command()
def serve(
    console: Annotated[bool, typer.Option(
        "--console", help="Answer questions typed in the terminal (or piped, one per line) instead of running "
                          "the Telegram bot; needs no token, and builds the sample index on first run.")] = False,
    index: Annotated[Path | None, typer.Option(
        "--index", "-i", help="Index directory (env INDEX_DIR; default data/index).")] = None,
    model: Annotated[str | None, typer.Option(
        "--model", help="Embedding model name or folder; must match the index (env EMBEDDING_MODEL).")] = None,
    mode: Annotated[SearchMode | None, typer.Option(
        help="Search mode: dense, lexical or hybrid (env SEARCH_MODE; default hybrid).")] = None,
    results: Annotated[int | None, typer.Option(
        "--results", "-k", min=1, max=10,
        help="Passages quoted per answer (env RESULTS_PER_ANSWER; default 3).")] = None,
    threshold: Annotated[float | None, typer.Option(
        "--threshold", min=-1.0, max=1.0,
        help="Say 'nothing found' when the best passage's cosine to the question is below this (env "
             f"NO_ANSWER_THRESHOLD; default {DEFAULT_NO_ANSWER_THRESHOLD}, calibrated for the default model).")] = None,
) -> None:
    """Run the Telegram bot (long polling, or a webhook when WEBHOOK_URL is set), or the console with --console.

    The bot needs TELEGRAM_BOT_TOKEN and a built index (akhbar-index build ...). Stop it with Ctrl-C.

    Example: akhbar-bot --console
    """
    settings = _load_settings({"index_dir": index, "embedding_model": model, "search_mode": mode,
                               "results_per_answer": results, "no_answer_threshold": threshold})
    token = settings.token
    configure_bot_logging(secrets=[token] if token else [], verbose=not console)
    if console:
        _run_console(settings)
    else:
        _run_telegram(settings)


def _run_console(settings: BotSettings) -> None:
    from bot.console import open_or_build, prompted_lines, run_console

    try:
        answerer = open_or_build(settings, status=errors.print)
    except AkhbarIndexError as error:
        raise _fail(str(error)) from None
    lines = prompted_lines() if sys.stdin.isatty() else sys.stdin
    run_console(answerer, lines, write=lambda text: print(text, flush=True))


def _run_telegram(settings: BotSettings) -> None:
    from bot.app import MissingWebhookSecret, build_application, run, webhook_secret

    token = settings.token
    if not token:
        raise _fail("TELEGRAM_BOT_TOKEN is not set: put the token @BotFather gave you in .env or the "
                    "environment, or try the bot without Telegram: akhbar-bot --console")
    if settings.webhook_url:
        try:
            webhook_secret(settings)  # before anything is opened: a forged-update hole must not start
        except MissingWebhookSecret as error:
            raise _fail(str(error)) from None
    store = open_store(settings)  # the FAISS directory or the Milvus collection, whichever is configured
    try:
        if not store.exists():
            raise IndexNotFound(store.description, command=store.rebuild_command)
    except IndexNotFound as error:
        raise _fail(f"{error} (or run `akhbar-bot --console` once: it builds one from the bundled sample)") from None
    except AkhbarIndexError as error:
        raise _fail(str(error)) from None
    finally:
        store.close()
    application = build_application(settings)
    asyncio.set_event_loop(asyncio.new_event_loop())  # a fresh loop for PTB, whatever ran before
    try:
        run(application, settings)
    except InvalidToken:
        raise _fail("Telegram rejected TELEGRAM_BOT_TOKEN (getMe: unauthorized); copy the token again from "
                    "@BotFather") from None
    except NetworkError as error:
        raise _fail(f"cannot reach the Bot API at {settings.telegram_base_url}: {error}", token) from None
    except AkhbarIndexError as error:
        raise _fail(str(error)) from None


def main() -> None:
    """Entry point of ``akhbar-bot`` (and ``python -m bot``)."""
    app()


if __name__ == "__main__":
    main()
