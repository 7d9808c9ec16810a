"""Throughput and latency against connections for the callback burst (PNG for docs/PERFORMANCE.md)."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def plot_callback(result: dict, path) -> None:
    rows = result["rows"]
    conns = [r["connections"] for r in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(conns, [r["noop"]["rps"] for r in rows], "o--", label="no-op view")
    left.plot(conns, [r["callback"]["rps"] for r in rows], "o-", label="/wechat/callback (subscribe + attribution)")
    left.set_xscale("log", base=2)
    left.set_xlabel("connections")
    left.set_ylabel("requests / s")
    left.set_title("Throughput")
    left.legend(fontsize=8)
    right.plot(conns, [r["noop"]["p99_ms"] for r in rows], "o--", label="no-op p99")
    right.plot(conns, [r["callback"]["p99_ms"] for r in rows], "o-", label="callback p99")
    right.plot(conns, [r["callback"]["p50_ms"] for r in rows], "s:", label="callback p50")
    right.set_xscale("log", base=2)
    right.set_xlabel("connections")
    right.set_ylabel("latency (ms)")
    right.set_title("Latency")
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
