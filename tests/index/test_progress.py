"""Progress off a terminal: a line every interval with stage, done/total, rate and ETA."""

from __future__ import annotations

import io
import re
import time

from index.build.progress import LogProgress, NullProgress, TeeProgress, with_heartbeat


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def start(self, stage: str, total: int | None, unit: str) -> None:
        self.calls.append(("start", stage, total, unit))

    def advance(self, amount: int = 1) -> None:
        self.calls.append(("advance", amount))

    def finish(self) -> None:
        self.calls.append(("finish",))


def wait_for_lines(stream: io.StringIO, count: int, timeout: float = 5.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = stream.getvalue().splitlines()
        if len(lines) >= count:
            return lines
        time.sleep(0.01)
    return stream.getvalue().splitlines()


def test_a_line_every_interval_with_stage_count_rate_and_eta() -> None:
    stream = io.StringIO()
    progress = LogProgress(stream, interval=0.1, prefix="akhbar build")
    progress.start("embedding", 1000, "chunks")
    progress.advance(250)
    lines = wait_for_lines(stream, 2)
    progress.finish()
    assert len(lines) >= 2
    assert re.search(r"akhbar build: embedding 250/1,000 chunks \(25\.0%\), [\d,.]+ chunks/s, ETA \d+m\d\ds", lines[0])
    final = stream.getvalue().splitlines()[-1]
    assert "done in" in final
    assert "250/1,000" in final


def test_no_line_for_a_short_stage_and_the_timer_stops() -> None:
    stream = io.StringIO()
    progress = LogProgress(stream, interval=0.2)
    progress.start("reading", None, "articles")
    progress.advance(3)
    assert re.search(r"reading 3 articles, [\d,.]+ articles/s, elapsed", progress.line())  # no total: no ETA
    progress.finish()
    time.sleep(0.35)
    assert stream.getvalue() == ""  # finished before one interval, timer stopped: nothing written


def test_with_heartbeat_adds_lines_off_a_terminal_only() -> None:
    recorder = Recorder()
    assert with_heartbeat(recorder, FakeTty()) is recorder
    stream = io.StringIO()
    wrapped = with_heartbeat(recorder, stream, interval=0.05)
    assert isinstance(wrapped, TeeProgress)
    wrapped.start("embedding", 10, "chunks")
    wrapped.advance(4)
    lines = wait_for_lines(stream, 1)
    wrapped.finish()
    assert recorder.calls[:2] == [("start", "embedding", 10, "chunks"), ("advance", 4)]
    assert recorder.calls[-1] == ("finish",)
    assert lines
    assert "embedding 4/10 chunks" in lines[0]


def test_null_progress_stays_silent(capsys) -> None:
    progress = with_heartbeat(NullProgress(), io.StringIO(), interval=10)
    progress.start("embedding", 5, "chunks")
    progress.advance(5)
    progress.finish()
    assert capsys.readouterr().err == ""
