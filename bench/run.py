#!/usr/bin/env python3
"""Runs the benchmarks against Vigil and a real etcd in one run and prints the ratios.

Usage: bench/run.py [--repeat N] [scenario ...]   (default: all; see SCENARIOS)
Needs: a release build of vigil (.build/release/vigil), etcd (Debian etcd-server), and bench/out/loadgen
(bench/run.sh builds both first). Each scenario gets a fresh server of each kind. With --repeat N, each scenario
runs N rounds, Vigil and etcd alternating, and each side's median is compared: the machine's speed drifts, and
alternating rounds spread the drift over both sides."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "bench", "out")
LOADGEN = os.path.join(OUT, "loadgen")
VIGIL = os.path.join(ROOT, ".build", "release", "vigil")

# name: (loadgen arguments, metric, higher_is_better)
SCENARIOS = {
    "range-single": (["-mode", "range", "-clients", "16", "-n", "100000"], "ops_per_sec", True),
    "range-prefix100": (["-mode", "range-prefix", "-clients", "16", "-n", "20000"], "ops_per_sec", True),
    "put-1": (["-mode", "put", "-clients", "1", "-n", "5000"], "ops_per_sec", True),
    "put-16": (["-mode", "put", "-clients", "16", "-n", "32000"], "ops_per_sec", True),
    "put-64": (["-mode", "put", "-clients", "64", "-n", "64000"], "ops_per_sec", True),
    "fanout-100": (["-mode", "fanout", "-inflight", "16", "-watchers", "100", "-streams", "4", "-n", "50000"], "events_per_sec", True),
    "fanout-1000": (["-mode", "fanout", "-inflight", "16", "-watchers", "1000", "-streams", "8", "-n", "10000"], "events_per_sec", True),
    "fanout-10000": (["-mode", "fanout", "-inflight", "16", "-watchers", "10000", "-streams", "16", "-n", "2000"], "events_per_sec", True),
    "fanout-10000-grpc": (["-mode", "fanout", "-watch-client", "raw", "-inflight", "16", "-watchers", "10000", "-streams",
                           "16", "-n", "2000"], "events_per_sec", True),
    "latency-10000": (["-mode", "fanout-latency", "-watchers", "10000", "-streams", "16", "-n", "100", "-rate", "10"],
                      "p99_ms", False),
    "latency-10000-clientv3": (["-mode", "fanout-latency", "-watch-client", "clientv3", "-watchers", "10000", "-streams",
                                "16", "-n", "100", "-rate", "10"], "p99_ms", False),
    "idle-100000": (["-mode", "idle", "-watchers", "100000", "-streams", "100"], "bytes_per_watcher", False),
    "catchup-100000": (["-mode", "catchup", "-n", "100000"], "events_per_sec", True),
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, process, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("server exited at start")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server did not listen")


def start_vigil(data):
    port = free_port()
    process = subprocess.Popen([VIGIL, "--listen-client-urls", f"http://127.0.0.1:{port}", "--data-dir", data,
                                "--log-level", "error"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, process)
    return process, port


def start_etcd(data):
    port, peer = free_port(), free_port()
    process = subprocess.Popen(
        ["etcd", "--name", "bench", "--data-dir", data, "--listen-client-urls", f"http://127.0.0.1:{port}",
         "--advertise-client-urls", f"http://127.0.0.1:{port}", "--listen-peer-urls", f"http://127.0.0.1:{peer}",
         "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}", "--initial-cluster", f"bench=http://127.0.0.1:{peer}",
         "--log-level", "error", "--quota-backend-bytes", str(8 << 30)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, process)
    time.sleep(1.0)  # etcd elects itself leader after listening
    return process, port


def cpu_seconds(pid):
    """User + system CPU seconds the process has used."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(name, start):
    args, metric, _ = SCENARIOS[name]
    # Start on a quiet disk: no writeback left over from the previous run competes with this one's syncs.
    os.sync()
    data = tempfile.mkdtemp(prefix=f"bench-{name}-", dir=OUT)
    process, port = start(data)
    try:
        extra = ["-pid", str(process.pid)] if "idle" in name else []
        cpu_before = cpu_seconds(process.pid)
        result = subprocess.run([LOADGEN, "-endpoint", f"127.0.0.1:{port}", *args, *extra], capture_output=True,
                                text=True, timeout=1800)
        if result.returncode != 0:
            raise RuntimeError(f"{name}: {result.stderr.strip()}")
        measured = json.loads(result.stdout.strip().splitlines()[-1])
        # The load generator shares the machine's cores with the server: report the server's own CPU too.
        measured["server_cpu_s"] = round(cpu_seconds(process.pid) - cpu_before, 3)
        return measured
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(data, ignore_errors=True)


def median(values):
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def main():
    os.makedirs(OUT, exist_ok=True)
    argv = sys.argv[1:]
    repeat = 1
    if argv[:1] == ["--repeat"]:
        repeat, argv = int(argv[1]), argv[2:]
    names = argv or list(SCENARIOS)
    rows = []
    for name in names:
        _, metric, higher = SCENARIOS[name]
        rounds = []
        for _ in range(repeat):
            rounds.append((run(name, start_vigil), run(name, start_etcd)))
        v = median([vigil[metric] for vigil, _ in rounds])
        e = median([etcd[metric] for _, etcd in rounds])
        ratio = (v / e if higher else e / v) if v and e else float("nan")
        rows.append((name, metric, v, e, ratio, rounds))
        cpu = "; ".join(f"vigil {vigil['server_cpu_s']}, etcd {etcd['server_cpu_s']}" for vigil, etcd in rounds)
        print(f"{name:16} {metric:18} vigil {v:14.2f}   etcd {e:14.2f}   ratio {ratio:7.2f}x"
              + ("" if higher else " (lower is better; ratio = etcd/vigil)")
              + (f" (medians of {repeat} rounds)" if repeat > 1 else "")
              + f"   server CPU s: {cpu}", flush=True)
        for vigil, etcd in rounds:
            for label, detail in (("vigil", vigil), ("etcd", etcd)):
                print(f"    {label}: {json.dumps(detail)}", flush=True)
    return rows


if __name__ == "__main__":
    main()
