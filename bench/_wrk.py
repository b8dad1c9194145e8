"""HTTP load with wrk (C, one event loop per thread), shared by the serving benchmarks. Not a benchmark itself.

A Lua script POSTs request bodies read from a file (one JSON body per line), cycling through them; `done` prints
one JSON line with the request count, the error counts and the latency percentiles, which run() parses. With
`user_lap` the script rewrites `"user":N` in every body by +lap*user_lap each time it wraps around the file, so a
stream of events stays in time order per card however long wrk runs (the fraud service answers 409 otherwise).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

LUA = r"""
local bodies_file = os.getenv("WRK_BODIES")
local path = os.getenv("WRK_PATH")
local user_lap = tonumber(os.getenv("WRK_USER_LAP") or "0")
local bodies, requests, i, lap = {}, {}, 0, 0
local headers = {["Content-Type"] = "application/json"}

local function build()
  for k, body in ipairs(bodies) do
    if user_lap > 0 and lap > 0 then
      body = body:gsub('"user":(%d+)', function(u) return '"user":' .. (tonumber(u) + lap * user_lap) end, 1)
    end
    requests[k] = wrk.format("POST", path, headers, body)
  end
end

function init(args)
  for line in io.lines(bodies_file) do bodies[#bodies + 1] = line end
  build()
end

function request()
  i = i + 1
  if i > #requests then
    i = 1
    if user_lap > 0 then lap = lap + 1; build() end
  end
  return requests[i]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
"""


def available() -> bool:
    return shutil.which("wrk") is not None


def run(url: str, path: str, bodies: list[bytes], *, connections: int, seconds: float,
        user_lap: int = 0, threads: int | None = None) -> dict:
    """POST the bodies (cycled) to url+path with wrk for `seconds` on `connections` keep-alive connections."""
    if not available():
        raise SystemExit("wrk is not installed (lab/setup/system-packages.sh installs it: make setup)")
    threads = threads or min(connections, 2)
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        script, body_file = Path(tmp, "post.lua"), Path(tmp, "bodies.jsonl")
        script.write_text(LUA, encoding="utf-8")
        body_file.write_bytes(b"\n".join(b.replace(b"\n", b" ") for b in bodies) + b"\n")
        env = {"WRK_BODIES": str(body_file), "WRK_PATH": path, "WRK_USER_LAP": str(user_lap), "PATH": "/usr/bin:/bin"}
        duration = max(1, round(seconds))
        done = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s",
                               "--timeout", "10s", "-s", str(script), url], env=env, capture_output=True,
                              text=True, timeout=duration + 60, check=False)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("WRKJSON ")), None)
    if done.returncode != 0 or line is None:
        raise SystemExit(f"wrk failed (exit {done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    raw = json.loads(line.removeprefix("WRKJSON "))
    errors = raw["connect"] + raw["read"] + raw["write"] + raw["status"] + raw["timeout"]
    return {"connections": connections, "requests": raw["requests"], "errors": errors,
            "non_2xx": raw["status"], "req_per_s": round(raw["requests"] / (raw["duration_us"] / 1e6), 1),
            "p50_ms": round(raw["p50_us"] / 1000, 2), "p90_ms": round(raw["p90_us"] / 1000, 2),
            "p99_ms": round(raw["p99_us"] / 1000, 2), "max_ms": round(raw["max_us"] / 1000, 2)}
