"""Load on the real bot over loopback: many users at once, no reply lost or doubled, the user limit held.

Starts the fake Bot API of the tests (``tests/bot/fake_telegram.py``) on 127.0.0.1 and the real
``akhbar-bot`` as a child process polling it (its own process, so its memory is measured alone),
over an index built with the default model: the bundled sample page (``corpus/sample``, built
into a temporary folder) unless ``--index`` names one. After a warm-up, ``--users`` users ask
``--questions`` XQuAD-ar questions each, all at once; each user waits for the reply before
asking again, as a person would. The per-user limit is ``--questions`` questions per hour, and
``--heavy-users`` of the users ask ``--extra`` more: each of them must get exactly the limit's
worth of replies, then one "slow down" notice, then silence.

Prints a table and writes JSON (``--json``):

* replies per question: lost (none within ``--reply-timeout``) and extra (a second reply, or a
  reply to a question the limiter should have silenced): both must be 0;
* latency from the update handed to the bot (the ``getUpdates`` response) to the first message
  of its reply, over answers and no-answer replies: p50 / p95 / p99 / max;
* the bot's RSS after the warm-up and after the load (the growth), and its peak;
* the limiter: no user answered more often than the limit, one notice per heavy user.

Exit code 0 when every check holds, 1 when one fails or ``--max-seconds`` runs out.

With the outgoing limiter on (as deployed), PTB's ``AIORateLimiter`` spaces every Bot API call
at Telegram's 30/s, which bounds answers per second whatever the CPU. ``--no-outgoing-limiter``
runs the same bot without it (the fake server has no flood limit) to measure the answering
core's own throughput: search, rendering and sending.

    python bench/bot_load.py --users 5 --questions 4        # a quick check, under a minute
    python bench/bot_load.py                                # 50 users x 20 questions
    python bench/bot_load.py --index bench/results/calibration-index   # the 300-article index
    python bench/bot_load.py --index /tmp/idx300 --no-outgoing-limiter --json bench/results/bot_load_nolimit.json

No network: loopback only, the model from ~/.cache/akhbar.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from botbench import MODEL, RESULTS, XQUAD_QUESTIONS, latency_ms
from perfbench import cpu_summary

from bot import messages
from bot.render import html_message
from corpus import SAMPLE_CORPUS
from tests.bot.builders import message_update
from tests.bot.fake_telegram import TOKEN, Call, FakeTelegram

#: Every "nothing answers this" reply: the plain one and those naming a period the question asked about.
NO_ANSWERS = [re.compile(re.escape(html_message(template)).replace(re.escape("{period}"), ".+"), re.DOTALL)
              for template in (messages.NO_ANSWER, messages.NO_ANSWER_IN_PERIOD, messages.PERIOD_EMPTY_NO_ANSWER)]
LIMITED = html.escape(messages.RATE_LIMITED.split("{")[0])
#: The limit's window: longer than any run, so no user regains a slot while it lasts.
WINDOW_SECONDS = 3600
FIRST_USER_CHAT = 10_000
#: ``akhbar-bot`` with PTB's outgoing rate limiter off (``--no-outgoing-limiter``); a benchmark-only
#: switch, so it is a keyword of ``build_application`` the CLI never passes, not a setting.
WITHOUT_OUTGOING_LIMITER = (
    "import functools, sys\n"
    "import bot.app\n"
    "bot.app.build_application = functools.partial(bot.app.build_application, outgoing_limiter=False)\n"
    "from bot.cli import main\n"
    "sys.argv[0] = 'akhbar-bot'\n"
    "main()\n")


def ends_reply(call: Call) -> bool:
    """The last message of one reply: an answer's carries its buttons; every other reply is one message."""
    return "reply_markup" in call.params or "<blockquote>" not in call.params["text"]


def reply_kind(first: Call) -> str:
    """``answer``, ``no-answer``, ``limited`` or ``other``, from a reply's first message."""
    text = first.params["text"]
    if "<blockquote>" in text:
        return "answer"
    if any(pattern.fullmatch(text) for pattern in NO_ANSWERS):
        return "no-answer"
    return "limited" if text.startswith(LIMITED) else "other"


def replies(messages_in_order: list[Call]) -> list[list[Call]]:
    """A chat's messages cut into replies."""
    cut: list[list[Call]] = [[]]
    for call in messages_in_order:
        cut[-1].append(call)
        if ends_reply(call):
            cut.append([])
    return [reply for reply in cut if reply]


# -- the bot as a child process -------------------------------------------------------------------

class BotProcess:
    """``python -m bot`` (what ``akhbar-bot`` runs) polling the fake server, its log in ``workdir``."""

    def __init__(self, server: FakeTelegram, index: Path, model: str, limit: int, workdir: Path,
                 threshold: float | None = None, outgoing_limiter: bool = True) -> None:
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": server.base_url,
               "INDEX_DIR": str(index), "EMBEDDING_MODEL": model, "FEEDBACK_DB": str(workdir / "feedback.sqlite"),
               "FEEDBACK_SALT": "bench", "RATE_LIMIT_QUESTIONS": str(limit),
               "RATE_LIMIT_SECONDS": str(WINDOW_SECONDS), "ALLOWED_CHAT_IDS": "", "HF_HUB_OFFLINE": "1"}
        if threshold is not None:
            env["NO_ANSWER_THRESHOLD"] = str(threshold)
        self.log = workdir / "bot.log"
        cwd = workdir / "bot"  # an empty folder: no .env, and nothing that shadows a package on sys.path
        cwd.mkdir()
        with self.log.open("wb") as log:  # the child keeps its own descriptor
            command = ["-m", "bot"] if outgoing_limiter else ["-c", WITHOUT_OUTGOING_LIMITER]
            self.process = subprocess.Popen([sys.executable, *command], env=env, cwd=cwd, stdout=log,
                                            stderr=subprocess.STDOUT)

    def memory_mb(self) -> dict[str, float]:
        """Resident memory now (``rss``) and at its peak (``peak``), from /proc (Linux)."""
        status = Path(f"/proc/{self.process.pid}/status").read_text().splitlines()
        fields = {name: value for name, _, value in (line.partition(":") for line in status)}
        return {"rss": int(fields["VmRSS"].split()[0]) / 1024, "peak": int(fields["VmHWM"].split()[0]) / 1024}

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the bot process has used so far, from /proc (Linux)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, grace: float = 30.0) -> None:
        """Ctrl-C (PTB stops polling cleanly), then kill after ``grace`` seconds."""
        if self.alive():
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def tail(self, lines: int = 15) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


async def wait_ready(server: FakeTelegram, bot: BotProcess, timeout: float) -> None:
    """Until the bot has opened its index and published its commands (``post_init`` done)."""
    deadline = time.monotonic() + timeout
    while not server.requests("setMyCommands"):
        if not bot.alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the bot did not start (exit code {bot.process.poll()}):\n{bot.tail()}")
        await server.wait_until(lambda: bool(server.requests("setMyCommands")), 1.0)


# -- the users ------------------------------------------------------------------------------------

@dataclass(slots=True)
class UserResult:
    """What one user asked and got."""

    chat_id: int
    heavy: bool
    asked: int = 0
    replies: dict[str, int] = field(default_factory=dict)
    lost: int = 0
    extra: int = 0
    latencies: list[float] = field(default_factory=list)


async def user(server: FakeTelegram, chat_id: int, questions: list[str], heavy: bool,
               reply_timeout: float) -> UserResult:
    """Ask one question after another, waiting for each reply; after the limit's notice, expect silence."""
    result = UserResult(chat_id, heavy)
    limited = False
    for question in questions:
        result.asked += 1
        before = len(server.sent(chat_id))
        update_id = server.inject(message_update(question, chat_id=chat_id))
        if limited:
            continue
        if not await server.wait_until(lambda start=before: any(map(ends_reply, server.sent(chat_id)[start:])),
                                       reply_timeout):
            result.lost += 1
            continue
        first = server.sent(chat_id)[before]
        if reply_kind(first) in ("answer", "no-answer"):
            result.latencies.append(first.at - server.delivered_at[update_id])
        limited = reply_kind(first) == "limited"
    return result


def account(server: FakeTelegram, result: UserResult, limit: int) -> None:
    """Count the replies the chat received in the end, by kind; beyond one per question due a reply, extra.

    Due a reply: every question up to the limit, and the first one over it (the notice).
    """
    cut = replies(server.sent(result.chat_id))
    for reply in cut:
        kind = reply_kind(reply[0])
        result.replies[kind] = result.replies.get(kind, 0) + 1
    due = min(result.asked, limit) + (result.asked > limit)
    result.extra = max(0, len(cut) - due)


# -- the run --------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Plan:
    """How many users ask how much; the per-user limit is ``questions`` (heavy users ask ``extra`` more)."""

    users: int
    questions: int
    heavy_users: int
    extra: int
    warmup: int
    reply_timeout: float

    def questions_of(self, user_index: int, pool: list[str]) -> list[str]:
        """The user's questions: its own stretch of the pool (wrapping round), longer for heavy users."""
        count = self.questions + (self.extra if user_index < self.heavy_users else 0)
        start = self.warmup + user_index * (self.questions + self.extra)
        return [pool[(start + n) % len(pool)] for n in range(count)]


async def load(server: FakeTelegram, bot: BotProcess, plan: Plan, pool: list[str]) -> dict[str, object]:
    """Warm up, measure memory, let every user ask at once, count every reply, measure memory again."""
    for n in range(plan.warmup):  # one question per chat, so no warm-up chat nears the limit
        if (await user(server, 1 + n, [pool[n]], False, plan.reply_timeout)).lost:
            raise RuntimeError(f"no reply to a warm-up question:\n{bot.tail()}")
    memory_before = bot.memory_mb()
    cpu_before, steal_before = bot.cpu_seconds(), machine_ticks()
    started = time.monotonic()
    results = await asyncio.gather(*(user(server, FIRST_USER_CHAT + n, plan.questions_of(n, pool),
                                          n < plan.heavy_users, plan.reply_timeout) for n in range(plan.users)))
    elapsed = time.monotonic() - started
    cpu = {"bot_seconds": bot.cpu_seconds() - cpu_before,
           "steal_share": share_stolen(steal_before, machine_ticks())}
    await server.settle(1.0)  # a late duplicate would arrive now
    memory_after = bot.memory_mb()
    for result in results:
        account(server, result, plan.questions)
    return summarise(server, plan, list(results), elapsed, memory_before, memory_after, cpu)


def machine_ticks() -> tuple[int, int]:
    """All CPU ticks of the machine and those stolen by its hypervisor, from /proc/stat."""
    ticks = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return sum(ticks), ticks[7] if len(ticks) > 7 else 0


def share_stolen(before: tuple[int, int], after: tuple[int, int]) -> float:
    """Share of the machine's CPU time a hypervisor took meanwhile: a noisy neighbour shows here."""
    total = after[0] - before[0]
    return (after[1] - before[1]) / total if total else 0.0


def summarise(server: FakeTelegram, plan: Plan, results: list[UserResult], elapsed: float,
              before: dict[str, float], after: dict[str, float], cpu: dict[str, float]) -> dict[str, object]:
    """Totals, latency, memory, the limiter's record and the pass/fail checks, as JSON-ready data."""
    kinds = {kind: sum(r.replies.get(kind, 0) for r in results) for kind in ("answer", "no-answer", "limited", "other")}
    answered = [r.replies.get("answer", 0) + r.replies.get("no-answer", 0) for r in results]
    latencies = [value for r in results for value in r.latencies]
    heavy = [r for r in results if r.heavy]
    refused = len(server.requests("sendMessage", status=400))
    checks = {
        "no reply lost": sum(r.lost for r in results) == 0,
        "no reply twice, none unexpected": sum(r.extra for r in results) == 0,
        "no user answered beyond the limit": max(answered, default=0) <= plan.questions,
        "every heavy user told once": all(r.replies.get("limited", 0) == 1 for r in heavy),
        "no other user told": all(not r.replies.get("limited") for r in results if not r.heavy),
        "no error reply, no HTML refused": kinds["other"] == 0 and refused == 0,
    }
    return {
        "plan": asdict(plan),
        "questions_asked": sum(r.asked for r in results),
        "replies": kinds,
        "lost": sum(r.lost for r in results),
        "extra": sum(r.extra for r in results),
        "latency_ms": latency_ms(latencies),
        "seconds": round(elapsed, 1),
        "answers_per_second": round(sum(answered) / elapsed, 2) if elapsed else 0.0,
        "typing_actions": len(server.requests("sendChatAction")),
        # CPU per reply is steadier than replies per second on a shared machine (steal says how shared).
        "bot_cpu_ms_per_reply": round(1000 * cpu["bot_seconds"] / sum(answered), 1) if sum(answered) else 0.0,
        "steal_share": round(cpu["steal_share"], 3),
        "rss_mb": {"after_warmup": round(before["rss"], 1), "after_load": round(after["rss"], 1),
                   "growth": round(after["rss"] - before["rss"], 1), "peak": round(after["peak"], 1)},
        "limiter": {"limit": plan.questions, "window_seconds": WINDOW_SECONDS,
                    "max_answered_per_user": max(answered, default=0), "heavy_users": len(heavy)},
        "checks": checks,
        "users": [{k: v for k, v in asdict(r).items() if k != "latencies"} for r in results],
    }


async def serve_and_load(index: Path, args: argparse.Namespace, plan: Plan, pool: list[str],
                         workdir: Path) -> dict[str, object]:
    """The fake server and the bot process around :func:`load`; both stopped whatever happens."""
    server = FakeTelegram()
    await server.start()
    bot = BotProcess(server, index, args.model, plan.questions, workdir, args.no_answer_threshold,
                     outgoing_limiter=not args.no_outgoing_limiter)
    try:
        await wait_ready(server, bot, args.startup_seconds)
        return await load(server, bot, plan, pool)
    finally:
        server.release_polls()
        await asyncio.to_thread(bot.stop)  # the loop keeps serving the bot's last requests meanwhile
        await server.stop()


def build_sample_index(target: Path, model: str, timeout: float) -> Path:
    """Index ``corpus/sample`` with ``model`` through ``akhbar-index build`` (keeps torch out of this process)."""
    print(f"# building a sample index in {target} …", flush=True)
    done = subprocess.run([sys.executable, "-m", "index.cli", "build", str(SAMPLE_CORPUS), "--index", str(target),
                           "--model", model], env={**os.environ, "HF_HUB_OFFLINE": "1"}, capture_output=True,
                          text=True, timeout=timeout, check=False)
    if done.returncode:
        raise RuntimeError(f"the sample index could not be built:\n{done.stderr[-2000:]}")
    return target


def print_table(summary: dict[str, object]) -> None:
    """The figures a reader looks for first, then each check."""
    plan, replies, latency, rss, checks = (summary[k] for k in ("plan", "replies", "latency_ms", "rss_mb", "checks"))
    assert isinstance(plan, dict)
    assert isinstance(replies, dict)
    assert isinstance(latency, dict)
    assert isinstance(rss, dict)
    assert isinstance(checks, dict)
    rows = [
        ("users x questions", f"{plan['users']} x {plan['questions']} (+{plan['extra']} for "
                              f"{plan['heavy_users']} heavy users; limit {plan['questions']} per user)"),
        ("questions asked", summary["questions_asked"]),
        ("answers / no answer", f"{replies['answer']} / {replies['no-answer']}"),
        ("limit notices / other", f"{replies['limited']} / {replies['other']}"),
        ("lost / extra replies", f"{summary['lost']} / {summary['extra']}"),
        ("latency p50/p95/p99/max", " / ".join(f"{value:.0f}" for value in latency.values()) + " ms"),
        ("answers per second", f"{summary['answers_per_second']} (over {summary['seconds']} s)"),
        ("typing actions sent", summary["typing_actions"]),
        ("bot CPU per reply", f"{summary['bot_cpu_ms_per_reply']} ms (CPU stolen by the host: "
                              f"{100 * float(summary['steal_share']):.1f} %)"),
        ("bot RSS warm -> loaded", f"{rss['after_warmup']:.0f} -> {rss['after_load']:.0f} MB "
                                   f"({rss['growth']:+.1f} MB), peak {rss['peak']:.0f} MB"),
    ]
    for name, value in rows:
        print(f"{name:<26} {value}")
    for name, passed in checks.items():
        print(f"{'PASS' if passed else 'FAIL'}  {name}")


def options() -> argparse.Namespace:
    """The command line (``--help`` shows this module's docstring)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=50, help="users asking at once (default 50)")
    parser.add_argument("--questions", type=int, default=20,
                        help="questions per user, and the per-user limit (default 20)")
    parser.add_argument("--heavy-users", type=int, default=None,
                        help="users asking --extra questions beyond the limit (default: a fifth, at least 1)")
    parser.add_argument("--extra", type=int, default=5, help="questions heavy users ask beyond the limit (default 5)")
    parser.add_argument("--warmup", type=int, default=5, help="questions asked before measuring (default 5)")
    parser.add_argument("--index", type=Path, default=None,
                        help="an index built with --model (default: corpus/sample, built into a temporary folder)")
    parser.add_argument("--model", default=MODEL, help=f"the index's embedding model (default {MODEL})")
    parser.add_argument("--no-answer-threshold", type=float, default=None,
                        help="the bot's NO_ANSWER_THRESHOLD (default: its own); -1 quotes even the tiny sample")
    parser.add_argument("--questions-file", type=Path, default=XQUAD_QUESTIONS,
                        help="JSONL with a 'question' field per line (default: XQuAD-ar questions)")
    parser.add_argument("--reply-timeout", type=float, default=120.0,
                        help="seconds a user waits for a reply before counting it lost (default 120)")
    parser.add_argument("--startup-seconds", type=float, default=180.0,
                        help="seconds the bot may take to load its model and index (default 180)")
    parser.add_argument("--max-seconds", type=float, default=1800.0,
                        help="the whole run, index build included, stops after this (default 1800)")
    parser.add_argument("--no-outgoing-limiter", action="store_true",
                        help="run the bot without PTB's outgoing rate limiter (30 calls/s), to measure the answering "
                             "core's own throughput; the deployed bot always has it")
    parser.add_argument("--json", type=Path, default=RESULTS / "bot_load.json", help="where to write the results")
    args = parser.parse_args()
    if min(args.users, args.questions) < 1 or min(args.extra, args.warmup) < 0:
        parser.error("--users and --questions must be at least 1, --extra and --warmup at least 0")
    return args


def main() -> int:
    """Prepare the index, run the load within --max-seconds, print and write the results."""
    args = options()
    heavy = max(1, args.users // 5) if args.heavy_users is None else args.heavy_users
    plan = Plan(args.users, args.questions, min(max(heavy, 0), args.users), args.extra, args.warmup,
                args.reply_timeout)
    pool = [json.loads(line)["question"] for line in args.questions_file.read_text(encoding="utf-8").splitlines()
            if line.strip()]

    deadline = time.monotonic() + args.max_seconds
    with tempfile.TemporaryDirectory(prefix="akhbar-load-") as tmp:
        workdir = Path(tmp)
        try:
            index = (args.index.resolve() if args.index
                     else build_sample_index(workdir / "sample-index", args.model, args.max_seconds))
            summary = asyncio.run(asyncio.wait_for(serve_and_load(index, args, plan, pool, workdir),
                                                   deadline - time.monotonic()))
        except (TimeoutError, subprocess.TimeoutExpired):
            print(f"error: gave up after --max-seconds {args.max_seconds:g}", file=sys.stderr)
            return 1
        except RuntimeError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
    summary["index"] = str(args.index or "corpus/sample (built for this run)")
    summary["outgoing_limiter"] = not args.no_outgoing_limiter
    summary["cpu"] = cpu_summary()
    print(summary["cpu"])
    print(f"{'outgoing limiter':<26} {'on' if summary['outgoing_limiter'] else 'off (--no-outgoing-limiter)'}")
    print_table(summary)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"written {args.json}")
    checks = summary["checks"]
    return 0 if isinstance(checks, dict) and all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
