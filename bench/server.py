"""Start gunicorn on loopback with production settings for the duration of a benchmark."""

import contextlib
import signal
import socket
import subprocess
import time
import urllib.request

from bench.env import OUT, PYTHON, ROOT, server_env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def gunicorn(*, workers: int = 4, extra_env: dict | None = None, port: int | None = None):
    """Yield the base URL of a running gunicorn (sync workers, as in production)."""
    port = port or free_port()
    OUT.mkdir(parents=True, exist_ok=True)
    log = open(OUT / "gunicorn.log", "a")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "gunicorn",
            "pan_channel.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--backlog",
            "2048",
            "--timeout",
            "60",
        ],
        cwd=ROOT,
        env=server_env(**(extra_env or {})),
        stdout=log,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"gunicorn did not start; see {OUT / 'gunicorn.log'}") from None
                time.sleep(0.2)
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
