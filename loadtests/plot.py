"""Plot locust's --csv-full-history output: throughput and latency over time, as a PNG.

python -m loadtests.plot /tmp/teller_stats_history.csv -o /tmp/teller.png
"""

import argparse
import csv
from pathlib import Path


def read_history(path: Path) -> dict[str, list[float]]:
    """The Aggregated rows of a stats_history CSV as columns: seconds since start, users, req/s, percentiles."""
    columns: dict[str, list[float]] = {"t": [], "users": [], "rps": [], "failures": [], "p50": [], "p95": [], "p99": []}
    start = None
    with path.open(newline="", encoding="utf-8") as file:
        for row in csv.DictReader(file):
            if row["Name"] != "Aggregated" or row["50%"] in ("N/A", ""):
                continue
            stamp = float(row["Timestamp"])
            start = stamp if start is None else start
            columns["t"].append(stamp - start)
            columns["users"].append(float(row["User Count"]))
            columns["rps"].append(float(row["Requests/s"]))
            columns["failures"].append(float(row["Failures/s"]))
            for name in ("50", "95", "99"):
                columns[f"p{name}"].append(float(row[f"{name}%"]))
    return columns


def plot(history: dict[str, list[float]], out: Path, title: str) -> None:
    """Two panels sharing the time axis: requests/s (and users), then p50/p95/p99 latency."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(9, 6), constrained_layout=True)
    top.plot(history["t"], history["rps"], label="requests/s", color="tab:blue")
    top.plot(history["t"], history["failures"], label="failures/s", color="tab:red")
    top.set_ylabel("requests/s")
    users = top.twinx()
    users.plot(history["t"], history["users"], label="users", color="tab:gray", linestyle="--")
    users.set_ylabel("users")
    top.legend(loc="upper left")
    top.set_title(title)
    for name, color in (("p50", "tab:green"), ("p95", "tab:orange"), ("p99", "tab:red")):
        bottom.plot(history["t"], history[name], label=name, color=color)
    bottom.set_ylabel("latency (ms)")
    bottom.set_xlabel("seconds")
    bottom.legend(loc="upper left")
    figure.savefig(out, dpi=110)


def main() -> None:
    """Read the CSV named on the command line and write the PNG."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("history", type=Path, help="the *_stats_history.csv file locust wrote")
    parser.add_argument("-o", "--out", type=Path, default=Path("locust.png"), help="PNG to write [locust.png]")
    parser.add_argument("--title", default="Teller ingest under locust", help="title of the plot")
    args = parser.parse_args()
    history = read_history(args.history)
    if not history["t"]:
        parser.error(f"{args.history} has no Aggregated rows with latencies")
    plot(history, args.out, args.title)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
