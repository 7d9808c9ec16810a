"""`python -m bench.rss CMD…`: run CMD, print its wall time and peak RSS as JSON.

The benchmark process holds Django and its data in memory; a child forked from it would
report that memory as its own peak. This small launcher is forked instead, so the figure
belongs to CMD alone.
"""

import json
import os
import subprocess
import sys
import time

if __name__ == "__main__":
    start = time.perf_counter()
    proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    seconds = round(time.perf_counter() - start, 2)
    print(json.dumps({"seconds": seconds, "peak_rss_mib": round(usage.ru_maxrss / 1024, 1)}))
    sys.exit(code)
