#!/usr/bin/python3
"""Kernel latency bench: cold start to first result, and the round trip of trivial cells.

Per timed cell it reports the round trip to the idle status (what a user waits for), the time to execute_reply,
and the kernel's CPU time (all threads, from /proc: less sensitive to other load than wall clock). The
kernel_info round trip measures messaging alone, without JShell. Two cells are timed, interleaved: a literal
expression (`j + 1`) and a declaration plus use (`int xj = j; xj + 1`); JShell compiles both. Then a long session:
305 declaration cells in a row, with the latency at cells 10, 100 and 300 (each cell's snippets are compiled
against every earlier declaration, so a cell could cost more the longer the notebook gets; target: within 2x).

Usage (from the repo root, after `./resa kernel install --prefix /tmp/resa-jupyter`):
    JUPYTER_PATH=/tmp/resa-jupyter/share/jupyter /usr/bin/python3 kernel/src/bench/kernel_bench.py [--kernel resa-java]
Needs Debian's jupyter-client (use /usr/bin/python3, not a pyenv python). Targets: cold start <= 3 s,
trivial cell <= 50 ms (median).
"""
import argparse
import os
import statistics
import time

from jupyter_client.manager import KernelManager


def run(kc, code, timeout=120):
    """Executes code; returns (seconds until execute_reply, seconds until the idle status, result text or None)."""
    t0 = time.perf_counter()
    msg_id = kc.execute(code)
    while True:  # the kernel sends execute_reply and the idle status together, after the cell ran
        reply = kc.get_shell_msg(timeout=timeout)
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    replied = time.perf_counter() - t0
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
            return replied, time.perf_counter() - t0, result


def cpu_seconds(km):
    """CPU time (user + system, all threads) the kernel process has used so far; None where /proc is missing."""
    try:
        with open(f"/proc/{km.provisioner.process.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, AttributeError, IndexError, ValueError):
        return None


def cold_start(name):
    t0 = time.perf_counter()
    km = KernelManager(kernel_name=name)
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=120)
    ready = time.perf_counter() - t0
    _, _, result = run(kc, "1 + 1")
    first = time.perf_counter() - t0
    assert result == "2", result
    return km, kc, ready, first


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kernel", default="resa-java")
    ap.add_argument("--starts", type=int, default=3, help="cold starts to measure (median reported)")
    ap.add_argument("--cells", type=int, default=30, help="trivial cells to time after warm-up")
    ap.add_argument("--session-cells", type=int, default=305, help="declaration cells of the long-session "
                    "measurement (latency at cell 10, 100 and 300 of one session; 0 skips it)")
    ap.add_argument("--settle", type=float, default=0, help="seconds the kernel sits idle after its first result "
                    "before the timed cells (a user reading the notebook); default: none")
    args = ap.parse_args()

    readies, firsts = [], []
    # a literal expression, and a cell that declares a variable and uses it (JShell compiles both)
    cells = {"j + 1": lambda j: f"{j} + 1", "int xj = j; xj + 1": lambda j: f"int x{j} = {j}; x{j} + 1"}
    timings = {name: ([], [], []) for name in cells}
    infos = []  # kernel_info round trips: the messaging overhead alone, no JShell
    for i in range(args.starts):
        km, kc, ready, first = cold_start(args.kernel)
        readies.append(ready)
        firsts.append(first)
        print(f"start {i + 1}: kernel_info ready {ready:.2f} s, first result (1 + 1) {first:.2f} s", flush=True)
        if i == args.starts - 1:
            time.sleep(args.settle)
            for _ in range(5):
                run(kc, "1 + 1")  # warm-up
            for j in range(args.cells):
                t0 = time.perf_counter()
                kc.kernel_info(reply=True, timeout=120)
                infos.append((time.perf_counter() - t0) * 1000)
                for name, make in cells.items():  # interleaved, so both see the same machine load
                    cpu0 = cpu_seconds(km)
                    replied, idle, result = run(kc, make(j))
                    cpu1 = cpu_seconds(km)
                    assert result == str(j + 1), (name, result)
                    timings[name][0].append(replied * 1000)
                    timings[name][1].append(idle * 1000)
                    if cpu0 is not None and cpu1 is not None:
                        timings[name][2].append((cpu1 - cpu0) * 1000)
        if i == args.starts - 1 and args.session_cells > 0:
            session = long_session(km, kc, args.session_cells)
        kc.stop_channels()
        km.shutdown_kernel(now=False)

    print(f"cold start to first result: median {statistics.median(firsts):.2f} s "
          f"(min {min(firsts):.2f}, max {max(firsts):.2f}; target <= 3 s)")
    print(f"kernel_info ready:          median {statistics.median(readies):.2f} s")
    print(f"kernel_info round trip (messaging only, no JShell): median {statistics.median(infos):.1f} ms "
          f"(p10 {pct(infos, 10):.1f}, p90 {pct(infos, 90):.1f})")
    load = os.getloadavg()[0]
    if args.session_cells > 0:
        print_long_session(session)
    for name, (replies, idles, cpus) in timings.items():
        print(f"cell `{name}`: round trip to idle median {statistics.median(idles):.1f} ms "
              f"(p10 {pct(idles, 10):.1f}, p90 {pct(idles, 90):.1f}; target <= 50 ms)")
        print(f"    execute_request -> execute_reply median {statistics.median(replies):.1f} ms"
              + (f"; kernel CPU per cell (all threads) mean {statistics.mean(cpus):.1f} ms" if cpus else ""))
    print(f"load average (1 min) at the end: {load:.2f} on {os.cpu_count()} cores (timings are wall clock; "
          f"a loaded machine inflates them)")


def long_session(km, kc, n):
    """Round trips and kernel CPU of n declaration cells in one session (each declares a variable and a method, as
    notebooks do); JShell's cost per snippet can grow with the number of earlier declarations."""
    times, cpus = [], []
    for j in range(1, n + 1):
        cpu0 = cpu_seconds(km)
        _, idle, _ = run(kc, f"int d{j} = {j};\nint twice{j}(int x) {{ return 2 * x + d{j}; }}")
        cpu1 = cpu_seconds(km)
        times.append(idle * 1000)
        cpus.append((cpu1 - cpu0) * 1000 if cpu0 is not None and cpu1 is not None else float("nan"))
    return times, cpus


def print_long_session(session):
    """Median of the 11 cells around cell 10, 100 and 300 (or the last), and the ratio to cell 10 (target <= 2);
    wall clock, and the kernel's CPU per cell (less sensitive to other load)."""
    for label, xs in zip(("round trip", "kernel CPU"), session):
        def around(c):
            c = min(c, len(xs))
            return statistics.median(xs[max(0, c - 6):min(len(xs), c + 5)])
        marks = [c for c in (10, 100, 300) if c <= len(xs)] or [len(xs)]
        parts = [f"cell {c}: {around(c):.1f} ms ({around(c) / around(10):.2f}x)" for c in marks]
        print(f"long session, declaration cells, {label} (median of 11 around each): {'; '.join(parts)}; "
              f"target <= 2x of cell 10")


def pct(xs, p):
    return sorted(xs)[len(xs) * p // 100]


if __name__ == "__main__":
    main()
