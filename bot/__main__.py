"""``python -m bot``: the same as the ``akhbar-bot`` command."""

from bot.cli import main

main()
