"""Run wrk (Debian package) and read its summary."""

import re
import shutil
import subprocess
from dataclasses import asdict, dataclass

from bench.env import OUT


@dataclass
class WrkResult:
    url: str
    connections: int
    seconds: int
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int  # socket errors + non-2xx/3xx + timeouts

    def as_dict(self):
        return asdict(self)


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def run(
    url: str,
    *,
    connections: int,
    seconds: int,
    script: str | None = None,
    threads: int = 2,
    headers: dict | None = None,
) -> WrkResult:
    if not shutil.which("wrk"):
        raise RuntimeError("wrk is not installed (apt-get install wrk); `make bench` installs it")
    cmd = ["wrk", f"-t{min(threads, connections)}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    cmd += ["--timeout", "10s"]
    if script:
        cmd += ["-s", script]
    for name, value in (headers or {}).items():
        cmd += ["-H", f"{name}: {value}"]
    out = subprocess.run([*cmd, url], check=True, capture_output=True, text=True).stdout
    (OUT / "wrk-last.txt").write_text(out)
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(re.search(r"\s50%\s+([\d.]+\w+)", out).group(1))
    p99 = _ms(re.search(r"\s99%\s+([\d.]+\w+)", out).group(1))
    errors = 0
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if sock:
        errors += sum(int(x) for x in sock.groups())
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        errors += int(non2xx.group(1))
    return WrkResult(url, connections, seconds, requests, rps, p50, p99, errors)
