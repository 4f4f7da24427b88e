#!/usr/bin/env python3
"""Measures how long `vigil` takes to start on a data directory holding N keys (default 1,000,000).

vigil first creates an empty data directory (so its schema is this build's); the revision log is then filled
directly with Python's sqlite3 (one revision per key, 8-byte keys, 256-byte values; a row keyed by its revision
packed as `main << 24 | sub`, Sources/Persistence/RevisionRowID.swift), which is far quicker than a million puts;
then vigil is started again and timed until it answers a Range. Usage: bench/startup.py [N]   (needs
.build/release/vigil)."""
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VIGIL = os.path.join(ROOT, ".build", "release", "vigil")
sys.path.insert(0, os.path.join(ROOT, "bench"))


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    directory = tempfile.mkdtemp(prefix="vigil-startup-", dir=os.path.join(ROOT, "bench", "out"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    def start_vigil():
        """Starts vigil on the directory; returns the process and the first answered Range."""
        process = subprocess.Popen([VIGIL, "--data-dir", directory, "--listen-client-urls",
                                    f"http://127.0.0.1:{port}", "--log-level", "error"])
        while True:
            result = subprocess.run(["etcdctl", f"--endpoints=127.0.0.1:{port}", "get", "--limit", "1", "--keys-only",
                                     "-w", "json", "", "--prefix"], capture_output=True, text=True,
                                    env=dict(os.environ, ETCDCTL_API="3"))
            if result.returncode == 0:
                return process, result
            time.sleep(0.02)

    creating, _ = start_vigil()
    creating.terminate()
    creating.wait()
    db = sqlite3.connect(os.path.join(directory, "vigil.db"))
    value = b"v" * 256
    db.executemany("INSERT INTO revisions(id, key, value, create_revision, version, lease, tombstone) "
                   "VALUES (?, ?, ?, ?, 1, 0, 0)",
                   (((i + 2) << 24, i.to_bytes(8, "big"), value, i + 2) for i in range(count)))
    db.commit()
    db.close()
    start = time.monotonic()
    process, result = start_vigil()
    try:
        elapsed = time.monotonic() - start
        with open(f"/proc/{process.pid}/status") as status:
            rss = next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) * 1024
        print(f"startup with {count:,} keys: {elapsed:.2f} s until the first Range answered; RSS {rss / 2**20:.0f} MiB; "
              f"keys counted by the server: {__import__('json').loads(result.stdout)['count']:,}")
    finally:
        process.terminate()
        process.wait()
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
