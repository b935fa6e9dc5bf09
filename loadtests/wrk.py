"""Drive wrk with a Lua script that replays recorded requests and counts Teller's answers."""

import json
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# Counters live in each wrk thread; done() adds them up and prints one JSON line for the caller.
# A run sends a fixed number of POSTs, then only GET /healthz until every POST is answered, and stops:
# no request is in flight when wrk exits, so Teller's stored rows can be compared exactly. wrk's main
# thread sleeps for the whole -d duration, so the script times itself (LuaJIT FFI) and wakes it with SIGINT.
_LUA = """
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock, bench_timespec *tp);
int kill(int pid, int sig);
int getpid(void);
]]
local clock = ffi.new("bench_timespec")
local function now()
  ffi.C.clock_gettime(1, clock)
  return tonumber(clock.tv_sec) + tonumber(clock.tv_nsec) / 1e9
end

local requests = {
%(requests)s
}
local path = %(path)s
local batch = %(batch)s
local interval = %(interval)s
per_thread = %(per_thread)s

local formatted = {}
local index = 0
local idle = wrk.format("GET", "/healthz")
sent, answers, accepted, dropped, events, rejected = 0, 0, 0, 0, 0, 0
started, finished = 0, 0

function init(args)
  for i, r in ipairs(requests) do
    formatted[i] = wrk.format("POST", path,
      {["Content-Type"] = "text/plain", ["User-Agent"] = r[2], ["X-Forwarded-For"] = r[3]}, r[1])
  end
  index = (id or 0) * 7919 %% #formatted
end

-- wrk calls request() once on the first thread before starting it, to check the script: not a real send.
local checked = false

function request()
  if id == 0 and not checked then
    checked = true
    return formatted[1]
  end
  if sent >= limit then return idle end
  if sent == 0 then started = now() end
  sent = sent + 1
  index = index %% #formatted + 1
  return formatted[index]
end

function response(status, headers, body)
  if status == 200 then return end
  if status == 202 then
    answers = answers + 1
    if batch then
      local n = tonumber(string.match(body, '"accepted":(%%d+)')) or 0
      accepted = accepted + n
      events = events + n
    else
      events = events + 1
      if headers["x-teller-dropped"] then dropped = dropped + 1 else accepted = accepted + 1 end
    end
  else
    rejected = rejected + 1
  end
  if answers + rejected >= limit and finished == 0 then
    finished = now()
    wrk.thread:stop()
    ffi.C.kill(ffi.C.getpid(), 2)
  end
end

if interval > 0 then
  local whole = math.floor(interval)
  local part = interval - whole
  function delay()
    if math.random() < part then return whole + 1 end
    return whole
  end
end

local threads = {}
local next_id = 0
function setup(thread)
  thread:set("id", next_id)
  thread:set("limit", per_thread)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function done(summary, latency, requests)
  local totals = {sent = 0, answers = 0, accepted = 0, dropped = 0, events = 0, rejected = 0}
  local first, last = math.huge, 0
  for _, thread in ipairs(threads) do
    for name, _ in pairs(totals) do totals[name] = totals[name] + thread:get(name) end
    first = math.min(first, thread:get("started"))
    last = math.max(last, thread:get("finished"))
  end
  -- A thread that never finished (lost answers) ran until -d; wrk's own duration is the best guess then.
  local duration = summary.duration
  if last > 0 then duration = (last - first) * 1e6 end
  local e = summary.errors
  io.write(string.format(
    'WRK-RESULT {"requests": %%d, "sent": %%d, "duration_us": %%d, "answers": %%d, "accepted": %%d, "dropped": %%d, ' ..
    '"events": %%d, "rejected": %%d, "errors": %%d, "timeouts": %%d, "p50_us": %%d, "p90_us": %%d, ' ..
    '"p99_us": %%d, "max_us": %%d, "mean_us": %%f}\\n',
    summary.requests, totals.sent, duration, totals.answers, totals.accepted, totals.dropped, totals.events,
    totals.rejected, e.connect + e.read + e.write + e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
"""


class WrkMissing(RuntimeError):
    """wrk is not installed."""


@dataclass(frozen=True, slots=True)
class Request:
    """A recorded POST: body, User-Agent and X-Forwarded-For."""

    body: bytes
    user_agent: str
    forwarded_for: str


@dataclass(frozen=True)
class WrkResult:
    """What one wrk run measured; accepted counts events Teller said it stored."""

    requests: int
    sent: int
    duration_us: int
    answers: int
    accepted: int
    dropped: int
    events: int
    rejected: int
    errors: int
    timeouts: int
    p50_us: int
    p90_us: int
    p99_us: int
    max_us: int
    mean_us: float

    @property
    def seconds(self) -> float:
        """Length of the run."""
        return self.duration_us / 1e6

    @property
    def rps(self) -> float:
        """POSTs answered per second."""
        return (self.answers + self.rejected) / self.seconds

    @property
    def complete(self) -> bool:
        """Every POST sent got an answer (no socket error, no timeout)."""
        return self.answers + self.rejected == self.sent and not self.errors and not self.timeouts

    @property
    def events_per_second(self) -> float:
        """Events per second answered 202 (for batches: events inside them)."""
        return self.events / self.seconds


def _lua_string(value: bytes) -> str:
    """A Lua string literal holding value byte for byte."""
    out = []
    for byte in value:
        char = chr(byte)
        if char in '"\\':
            out.append("\\" + char)
        elif 32 <= byte < 127:
            out.append(char)
        else:
            out.append(f"\\{byte:03d}")
    return '"' + "".join(out) + '"'


def write_script(
    target: Path,
    requests: Sequence[Request],
    path: str,
    count: int,
    batch: bool = False,
    interval_ms: float = 0.0,
) -> Path:
    """Write a one-thread wrk script that sends count requests round-robin, waits for their answers, and stops."""
    rows = ",\n".join(
        "{" + ", ".join(_lua_string(value) for value in (r.body, r.user_agent.encode(), r.forwarded_for.encode())) + "}"
        for r in requests
    )
    values = {
        "requests": rows,
        "path": _lua_string(path.encode()),
        "batch": "true" if batch else "false",
        "interval": repr(float(interval_ms)),
        "per_thread": str(max(1, count)),
    }
    target.write_text(_LUA % values, encoding="utf-8")
    return target


def wrk_binary() -> str:
    """Path of wrk, or WrkMissing."""
    found = shutil.which("wrk")
    if found is None:
        raise WrkMissing("wrk is not installed (apt-get install wrk)")
    return found


def run(
    url: str,
    script: Path,
    limit_s: float,
    connections: int,
    cpus: str | None = None,
    timeout_s: int = 5,
) -> WrkResult:
    """Run a script to its end (limit_s only bounds it); cpus pins wrk (a taskset list, e.g. "1")."""
    command = [
        wrk_binary(),
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(limit_s))}s",
        f"--timeout={timeout_s}s",
        "-s",
        str(script),
        url,
    ]
    if cpus is not None and shutil.which("taskset"):
        command = ["taskset", "-c", cpus, *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=limit_s + 60, check=False)
    for line in done.stdout.splitlines():
        if line.startswith("WRK-RESULT "):
            return WrkResult(**json.loads(line.removeprefix("WRK-RESULT ")))
    raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout[-2000:]} {done.stderr[-2000:]}")
