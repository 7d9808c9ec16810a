"""`python -m bench [callback exports pages fanout] [--quick]` — see docs/PERFORMANCE.md."""

import argparse
import json
import os
import platform
import sys
import time

from bench.env import OUT, ROOT, fresh_database, server_env

ALL = ["callback", "pages", "exports", "fanout"]


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("benches", nargs="*", metavar="BENCH", help=f"any of {', '.join(ALL)} (default: all)")
    parser.add_argument("--quick", action="store_true", help="short runs and small data (a smoke test)")
    args = parser.parse_args()
    args.benches = args.benches or ALL
    unknown = set(args.benches) - set(ALL)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")

    os.environ.update(server_env())
    sys.path.insert(0, str(ROOT))
    fresh_database()
    import django

    django.setup()

    # Running a subset keeps the other benchmarks' latest figures.
    path = OUT / "results.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    results.update({"machine": machine(), "started": time.strftime("%Y-%m-%d %H:%M:%S"), "quick": args.quick})

    def save():
        OUT.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=2, ensure_ascii=False))

    from bench.server import gunicorn

    if "callback" in args.benches:
        from bench import callback

        print("Callback burst (gunicorn 4 sync workers, wrk 2 threads):", flush=True)
        conns = [16, 64] if args.quick else [8, 16, 32, 64, 128]
        with gunicorn() as base:
            results["callback"] = callback.run(base, connections=conns, seconds=3 if args.quick else 15)
        save()
    if "pages" in args.benches:
        from bench import pages

        print("H5 pages under load:", flush=True)
        results["pages"] = pages.run(quick=args.quick)
        save()
    if "exports" in args.benches:
        from bench import exports

        print("Exports:", flush=True)
        results["exports"] = exports.run(rows=20_000 if args.quick else 1_000_000)
        save()
    if "fanout" in args.benches:
        from bench import fanout

        print("Outbound fan-out:", flush=True)
        results["fanout"] = fanout.run(quick=args.quick)
        save()

    if "callback" in results:
        from bench.plot import plot_callback

        plot_callback(results["callback"], ROOT / "docs" / "callback-throughput.png")
    print(f"Results: {OUT / 'results.json'}")
    return 0


def machine() -> dict:
    import subprocess

    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = subprocess.run(["free", "-g"], capture_output=True, text=True).stdout.split("\n")[1].split()[1]
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": mem, "python": platform.python_version()}


if __name__ == "__main__":
    sys.exit(main())
