#!/usr/bin/python3
"""Kernel latency bench: cold start to first result, and the round trip of a trivial cell.

Usage (from the repo root, after `./resa kernel install --prefix /tmp/resa-jupyter`):
    JUPYTER_PATH=/tmp/resa-jupyter/share/jupyter /usr/bin/python3 kernel/src/bench/kernel_bench.py [--kernel resa-java]
Needs Debian's jupyter-client (use /usr/bin/python3, not a pyenv python). Targets: cold start <= 3 s,
trivial cell <= 50 ms (median).
"""
import argparse
import statistics
import time

from jupyter_client.manager import KernelManager


def run(kc, code, timeout=120):
    """Executes code; returns (seconds until the idle status of this request, result text or None)."""
    t0 = time.perf_counter()
    msg_id = kc.execute(code)
    result = None
    while True:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind = msg["msg_type"]
        if kind == "execute_result":
            result = msg["content"]["data"].get("text/plain")
        elif kind == "error":
            raise RuntimeError(f"{msg['content']['ename']}: {msg['content']['evalue']}")
        elif kind == "status" and msg["content"]["execution_state"] == "idle":
            return time.perf_counter() - t0, result


def cold_start(name):
    t0 = time.perf_counter()
    km = KernelManager(kernel_name=name)
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=120)
    ready = time.perf_counter() - t0
    _, result = run(kc, "1 + 1")
    first = time.perf_counter() - t0
    assert result == "2", result
    return km, kc, ready, first


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kernel", default="resa-java")
    ap.add_argument("--starts", type=int, default=3, help="cold starts to measure (median reported)")
    ap.add_argument("--cells", type=int, default=30, help="trivial cells to time after warm-up")
    args = ap.parse_args()

    readies, firsts, trivial = [], [], []
    for i in range(args.starts):
        km, kc, ready, first = cold_start(args.kernel)
        readies.append(ready)
        firsts.append(first)
        print(f"start {i + 1}: kernel_info ready {ready:.2f} s, first result (1 + 1) {first:.2f} s", flush=True)
        if i == args.starts - 1:
            for _ in range(5):
                run(kc, "1 + 1")  # warm-up
            for j in range(args.cells):
                trivial.append(run(kc, f"{j} + 1")[0])
        kc.stop_channels()
        km.shutdown_kernel(now=False)

    ms = [t * 1000 for t in trivial]
    print(f"cold start to first result: median {statistics.median(firsts):.2f} s "
          f"(min {min(firsts):.2f}, max {max(firsts):.2f}; target <= 3 s)")
    print(f"kernel_info ready:          median {statistics.median(readies):.2f} s")
    print(f"trivial cell round trip:    median {statistics.median(ms):.1f} ms "
          f"(p10 {sorted(ms)[len(ms) // 10]:.1f}, p90 {sorted(ms)[len(ms) * 9 // 10]:.1f}; target <= 50 ms)")


if __name__ == "__main__":
    main()
