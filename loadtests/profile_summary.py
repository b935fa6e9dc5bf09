"""Summarise py-spy's raw output (one "frame;frame;... count" line per stack) into the top functions."""

import sys
from collections import Counter


def summarise(raw: str, top: int = 25) -> str:
    """Self and inclusive shares of the most sampled functions."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        frames = [frame for frame in stack.split(";")[1:] if frame]
        if frames:
            own[frames[-1]] += samples
        for frame in set(frames):
            inclusive[frame] += samples
    if not total:
        return "(no samples)"
    lines = [f"{total} samples; self time:"]
    lines += [f"  {n / total:6.1%}  {frame[:140]}" for frame, n in own.most_common(top)]
    lines.append("inclusive time:")
    lines += [f"  {n / total:6.1%}  {frame[:140]}" for frame, n in inclusive.most_common(top)]
    return "\n".join(lines)


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as file:
        print(summarise(file.read(), int(sys.argv[2]) if len(sys.argv) > 2 else 25))
