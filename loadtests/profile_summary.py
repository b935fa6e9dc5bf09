"""Summarise py-spy's raw output ("frame;frame;... count" per stack) into where the server's time goes."""

import sys
from collections import Counter

WAITS = ("Condition.wait", "Event.wait", "sleep (", "select (", "Thread.join")
LOOP_MARK = "Server.run (uvicorn"
AREAS = (
    ("collector/", "Teller (collector/)"),
    ("dashboard/", "Teller (dashboard/)"),
    ("uvicorn/", "uvicorn + httptools"),
    ("starlette/", "Starlette + FastAPI"),
    ("fastapi/", "Starlette + FastAPI"),
    ("asyncio/", "asyncio + uvloop"),
    ("chdb/", "chdb (Python side)"),
    ("clickhouse_driver/", "clickhouse-driver"),
    ("pyarrow/", "pyarrow"),
    ("ipaddress.py", "ipaddress (stdlib)"),
)


def _area(frame: str) -> str:
    """The library a frame belongs to."""
    return next((name for marker, name in AREAS if marker in frame), "other")


def summarise(raw: str, top: int = 20) -> str:
    """Busy share of the event loop and the other threads, the loop's time by library, and its top functions."""
    loop_self: Counter[str] = Counter()
    loop_areas: Counter[str] = Counter()
    background: Counter[str] = Counter()
    loop_samples = idle = 0
    for line in raw.splitlines():
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        frames = stack.split(";")
        leaf = frames[-1]
        if LOOP_MARK in stack:
            loop_samples += samples
            loop_self[leaf] += samples
            # The innermost frame of a known library says whose work this is.
            loop_areas[next((_area(f) for f in reversed(frames) if _area(f) != "other"), "other")] += samples
        elif any(wait in leaf for wait in WAITS):
            idle += samples
        else:
            worker = next((f for f in frames if "_loop (" in f or ".run (" in f), frames[min(2, len(frames) - 1)])
            background[worker] += samples
    if not loop_samples:
        return "(no samples of the event loop)"
    lines = [f"event loop: {loop_samples} samples; its time by library (innermost known frame):"]
    lines += [f"  {n / loop_samples:6.1%}  {area}" for area, n in loop_areas.most_common()]
    lines.append("event loop, self time of the top functions:")
    lines += [f"  {n / loop_samples:6.1%}  {frame[:130]}" for frame, n in loop_self.most_common(top)]
    if background:
        lines.append("other threads while busy (samples relative to the event loop's):")
        lines += [f"  {n / loop_samples:6.1%}  {frame[:130]}" for frame, n in background.most_common(6)]
    return "\n".join(lines)


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as file:
        print(summarise(file.read(), int(sys.argv[2]) if len(sys.argv) > 2 else 20))
