"""`etcdctl lock` and `etcdctl elect`: clientv3's concurrency recipes (a lease, a key per contender, a transaction,
and a watch from a revision on the contender just ahead) run by the stock etcdctl against Vigil and a real etcd.
Both must hand the lock and the leadership on in the same order; nothing here waits a fixed time."""
import os
import signal
import subprocess
import threading

from conftest import wait_until

ENV = dict(os.environ, ETCDCTL_API="3")


def etcdctl(address, *args):
    return ["etcdctl", f"--endpoints={address}", *args]


def keys_under(address, prefix):
    result = subprocess.run(etcdctl(address, "get", "--prefix", "--keys-only", prefix), capture_output=True,
                            text=True, env=ENV, timeout=30)
    assert result.returncode == 0, result.stderr
    return [line for line in result.stdout.splitlines() if line]


def lock_order(address, directory):
    """Three `etcdctl lock` holders queue on one lock; each holds it until told to let go. Returns the order in
    which they held it and what the test saw while they queued."""
    seen = []

    def holder(name):
        # The command runs while the lock is held: it records its turn, then waits for its release file.
        command = (f"echo {name} >> {directory}/order; touch {directory}/{name}.held; "
                   f"while [ ! -e {directory}/{name}.release ]; do sleep 0.02; done")
        return subprocess.Popen(etcdctl(address, "lock", "queue", "--", "sh", "-c", command), env=ENV,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def held(name):
        return os.path.exists(f"{directory}/{name}.held")

    holders = {}
    try:
        for count, name in enumerate(("a", "b", "c"), start=1):
            holders[name] = holder(name)
            wait_until(lambda: len(keys_under(address, "queue/")) == count, what=f"{name} to queue")
        wait_until(lambda: held("a"), what="a to hold the lock")
        seen.append(("queued, held", [n for n in "abc" if held(n)]))
        for current, following in (("a", "b"), ("b", "c"), ("c", None)):
            open(f"{directory}/{current}.release", "w").close()
            assert holders[current].wait(timeout=30) == 0, holders[current].communicate()
            if following:
                wait_until(lambda: held(following), what=f"{following} to take the lock")
                seen.append((f"{current} let go, held", [n for n in "abc" if held(n)]))
        seen.append(("left behind", keys_under(address, "queue/")))
    finally:
        for process in holders.values():
            if process.poll() is None:
                process.kill()
            process.communicate()
    with open(f"{directory}/order") as f:
        return f.read().split(), seen


class Printing:
    """An etcdctl process whose output lines are collected as they come."""

    def __init__(self, address, *args):
        self.process = subprocess.Popen(etcdctl(address, *args), env=ENV, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
        self.lines = []
        self.reader = threading.Thread(target=lambda: self.lines.extend(self.process.stdout), daemon=True)
        self.reader.start()

    def values(self, prefix):
        """The lines printed so far, without the keys (lines starting with prefix)."""
        return [line.strip() for line in list(self.lines) if not line.startswith(prefix)]

    def interrupt(self):
        """SIGINT, as Ctrl-C: `etcdctl elect` then resigns and exits 0."""
        self.process.send_signal(signal.SIGINT)
        assert self.process.wait(timeout=30) == 0, self.process.stderr.read()

    def close(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)
        self.reader.join(timeout=30)


def leadership(address):
    """An observer (`elect -l`) follows an election; alice campaigns and wins, bob campaigns and waits, alice resigns,
    bob leads. Returns the leaders the observer announced. A candidate prints its key and value once it has won, and
    is interrupted only after that (interrupted while campaigning, etcdctl gives up and exits 1)."""
    observer = Printing(address, "elect", "-l", "chair")
    candidates = []
    try:
        alice = Printing(address, "elect", "chair", "alice")
        candidates.append(alice)
        wait_until(lambda: alice.values("chair/") == ["alice"], what="alice to win")
        wait_until(lambda: observer.values("chair/") == ["alice"], what="the observer to see alice lead")
        bob = Printing(address, "elect", "chair", "bob")
        candidates.append(bob)
        wait_until(lambda: len(keys_under(address, "chair/")) == 2, what="bob to campaign")
        assert bob.values("chair/") == [], "bob won while alice led"
        alice.interrupt()
        wait_until(lambda: bob.values("chair/") == ["bob"], what="bob to win")
        wait_until(lambda: observer.values("chair/") == ["alice", "bob"], what="the observer to see bob lead")
        bob.interrupt()
        wait_until(lambda: keys_under(address, "chair/") == [], what="bob's resignation")
        return observer.values("chair/")
    finally:
        for printing in [*candidates, observer]:
            printing.close()


def test_etcdctl_lock_hands_over_in_queue_order_as_etcd(vigil, etcd, tmp_path):
    results = []
    for name, server in (("vigil", vigil), ("etcd", etcd)):
        directory = tmp_path / name
        directory.mkdir()
        results.append(lock_order(server.address, directory))
    ours, theirs = results
    assert ours == theirs
    assert ours[0] == ["a", "b", "c"]


def test_etcdctl_elect_passes_leadership_as_etcd(vigil, etcd):
    ours = leadership(vigil.address)
    theirs = leadership(etcd.address)
    assert ours == theirs == ["alice", "bob"]
