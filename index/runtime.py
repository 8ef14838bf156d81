"""Process set-up shared by both command lines (``akhbar-index`` and ``akhbar-bot``).

Offline by default (no Hugging Face hub call can succeed here, and none should be tried), and
quiet: libraries' info chatter and progress bars are silenced so the CLI's own progress and the
bot's log lines are what an operator reads.
"""

from __future__ import annotations

import logging
import os


def configure_logging() -> None:
    """Warnings to stderr; silence libraries' info chatter and progress bars; never touch the network."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("transformers", "sentence_transformers", "httpx", "faiss", "bm25s", "pymilvus"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    # Milvus Lite's in-process server logs each call its client probes but it does not implement.
    logging.getLogger("grpc._server").setLevel(logging.CRITICAL)
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # untyped in transformers
