"""What this machine's CPU is and how many cores this process may use (engine choice, batch layout)."""

from __future__ import annotations

import os
from pathlib import Path


def cpu_identity() -> tuple[str, str]:
    """``(model name, flags)`` of this CPU from ``/proc/cpuinfo`` (the platform's name elsewhere)."""
    import platform

    name, flags = "", ""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition(":")
            key = key.strip()
            if key == "model name" and not name:
                name = value.strip()
            elif key in ("flags", "Features") and not flags:
                flags = " ".join(sorted(value.split()))
            if name and flags:
                break
    except OSError:
        pass
    return name or platform.processor() or platform.machine(), flags


def cpu_cores() -> int:
    """Cores this process may use (the affinity mask, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1
