"""Stock clients' watch APIs against Vigil (and etcdctl's output compared with a real etcd's)."""
import os
import subprocess
import threading
import time

from conftest import run_client
from test_kv_etcdctl import ENV, etcdctl


class WatchProcess:
    """`etcdctl watch …` running in the background; lines are collected as they arrive."""

    def __init__(self, address, *args, stdin=None):
        self.process = subprocess.Popen(
            ["etcdctl", f"--endpoints={address}", "watch", *args], stdin=subprocess.PIPE if stdin else None,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ENV)
        self.lines = []
        self.condition = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        if stdin:
            self.process.stdin.write(stdin)
            self.process.stdin.flush()

    def _read(self):
        for line in self.process.stdout:
            with self.condition:
                self.lines.append(line.rstrip("\n"))
                self.condition.notify_all()

    def wait_lines(self, count, timeout=30):
        deadline = time.monotonic() + timeout
        with self.condition:
            while len(self.lines) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"expected {count} lines, got {self.lines}")
                self.condition.wait(remaining)
            return list(self.lines[:count])

    def stop(self):
        self.process.kill()
        self.process.wait()


def etcdctl_watch_session(address):
    """A fixed sequence of etcdctl watch commands; returns what each printed. Every watch starts from an explicit
    revision, so what it prints does not depend on when it registered."""
    for command in (("put", "foo", "0"), ("put", "foo/a", "1"), ("put", "foo", "1"), ("put", "foo/b", "2"),
                    ("del", "foo", "--prefix"), ("put", "bar", "x")):        # revisions 2..7
        assert etcdctl(address, *command)[0] == 0
    outputs = {}
    key = WatchProcess(address, "foo", "--rev", "2")
    prefix = WatchProcess(address, "foo", "--prefix", "--prev-kv", "--rev", "2")
    json_watch = WatchProcess(address, "foo/", "--prefix", "--rev", "3", "-w", "json")
    outputs["key"] = key.wait_lines(9)
    outputs["prefix"] = prefix.wait_lines(29)
    outputs["json"] = [normalised_json(line) for line in json_watch.wait_lines(1)]
    interactive = WatchProcess(address, "-i", stdin="watch bar --rev 7\n")
    outputs["interactive"] = interactive.wait_lines(3)
    interactive.process.stdin.write("progress\n")
    interactive.process.stdin.flush()
    outputs["progress"] = interactive.wait_lines(4)
    for process in (key, prefix, json_watch, interactive):
        process.stop()
    return outputs


def normalised_json(line):
    import json
    from test_kv_etcdctl import strip_identity
    return strip_identity(json.loads(line))


def test_etcdctl_watch_matches_etcd(vigil, etcd):
    ours = etcdctl_watch_session(vigil.address)
    theirs = etcdctl_watch_session(etcd.address)
    assert ours == theirs


def etcdctl_exec_and_compacted_session(address):
    """`etcdctl watch … -- COMMAND` (the command runs once per event, with the event in ETCD_WATCH_* variables), and
    watches that start below the compaction point: etcdctl prints the cancel reason and exits with its error code.
    The compaction revision holds a PUT, where etcd 3.4 and Vigil agree (at a DELETE there, etcd 3.4 drops the
    event: etcd-semantics.md §13 P5)."""
    for command in (("put", "a", "1"), ("put", "a", "2"), ("put", "b", "3"), ("del", "a"), ("put", "c", "9")):
        assert etcdctl(address, *command)[0] == 0      # revisions 2..6
    outputs = {}
    show = 'echo "T=$ETCD_WATCH_EVENT_TYPE K=$ETCD_WATCH_KEY V=$ETCD_WATCH_VALUE R=$ETCD_WATCH_REVISION"'
    exec_watch = WatchProcess(address, "a", "--rev", "2", "--", "sh", "-c", show)
    outputs["exec"] = exec_watch.wait_lines(12)
    exec_watch.stop()
    outputs["compact"] = etcdctl(address, "compact", "6")
    for name, args in (("key", ("a", "--rev", "2")), ("prefix", ("--prefix", "", "--rev", "1"))):
        code, stdout, stderr = etcdctl(address, "watch", *args)
        outputs[name] = (code, stdout, stderr)
    at_point = WatchProcess(address, "--prefix", "", "--rev", "6")
    outputs["at-point"] = at_point.wait_lines(3)
    at_point.stop()
    return outputs


def test_etcdctl_watch_exec_and_compacted_match_etcd(vigil, etcd):
    ours = etcdctl_exec_and_compacted_session(vigil.address)
    theirs = etcdctl_exec_and_compacted_session(etcd.address)
    assert ours == theirs
    assert ours["exec"][-1] == 'T="DELETE" K="a" V="" R=6', ours["exec"]
    assert ours["key"][0] == 5 and "required revision has been compacted" in ours["key"][1] + ours["key"][2]


def test_etcd3_watch(vigil):
    assert "etcd3 watch ok" in run_client("etcd3_watch.py", vigil.port)


def test_aetcd_watch(vigil):
    assert "aetcd watch ok" in run_client("aetcd_watch.py", vigil.port)
