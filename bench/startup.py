#!/usr/bin/env python3
"""Measures how long `vigil` takes to start on a data directory holding N keys (default 1,000,000).

The data directory is written directly with Python's sqlite3 in Vigil's schema (one revision per key, 8-byte keys,
256-byte values), which is far quicker than a million puts; then vigil is started and timed until it answers a
Range. Usage: bench/startup.py [N]   (needs .build/release/vigil)."""
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
    db = sqlite3.connect(os.path.join(directory, "vigil.db"))
    db.executescript("""
        PRAGMA journal_mode=WAL;
        CREATE TABLE revisions (main INTEGER NOT NULL, sub INTEGER NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL,
            create_revision INTEGER NOT NULL, version INTEGER NOT NULL, lease INTEGER NOT NULL,
            tombstone INTEGER NOT NULL, PRIMARY KEY (main, sub)) WITHOUT ROWID;
        CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE leases (id INTEGER PRIMARY KEY, ttl INTEGER NOT NULL);
        PRAGMA application_id=1447642956;
    """)
    value = b"v" * 256
    db.executemany("INSERT INTO revisions VALUES (?, 0, ?, ?, ?, 1, 0, 0)",
                   ((i + 2, i.to_bytes(8, "big"), value, i + 2) for i in range(count)))
    db.execute("INSERT INTO meta VALUES ('schema_version', 1)")
    db.commit()
    db.close()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.monotonic()
    process = subprocess.Popen([VIGIL, "--data-dir", directory, "--listen-client-urls", f"http://127.0.0.1:{port}",
                                "--log-level", "error"])
    try:
        while True:
            result = subprocess.run(["etcdctl", f"--endpoints=127.0.0.1:{port}", "get", "--limit", "1", "--keys-only",
                                     "-w", "json", "", "--prefix"], capture_output=True, text=True, env=dict(os.environ, ETCDCTL_API="3"))
            if result.returncode == 0:
                break
            time.sleep(0.02)
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
