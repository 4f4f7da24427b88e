"""Durability: writers under load, `vigil` killed with SIGKILL at random moments and restarted on the same data
directory, many times. Every acknowledged write must be there after each restart, no transaction may be half
applied, the revision sequence has no holes, and a watcher resuming from its last seen revision + 1 continues
without gap or duplicate."""
import contextlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import threading
import time

import grpc
import pytest

from conftest import VigilProcess, port_open, wait_until
from kv_client import KVClient
from watch_client import WatchStream


class Acked:
    def __init__(self):
        self.lock = threading.Lock()
        self.puts = {}       # key -> (value, revision)
        self.txns = {}       # prefix -> revision

    def put(self, key, value, revision):
        with self.lock:
            self.puts[key] = (value, revision)

    def txn(self, prefix, revision):
        with self.lock:
            self.txns[prefix] = revision


def writer(protos, address, acked, name, stop, txn=False):
    kv = KVClient(protos, address)
    pb = kv.pb
    i = 0
    try:
        while not stop.is_set():
            i += 1
            if txn:
                prefix = b"%s/%d/" % (name, i)
                ops = [pb.RequestOp(request_put=pb.PutRequest(key=prefix + part, value=b"%d" % i)) for part in (b"a", b"b", b"c")]
                try:
                    response = kv.kv.Txn(pb.TxnRequest(success=ops), timeout=5)
                except grpc.RpcError:
                    return
                acked.txn(prefix, response.header.revision)
            else:
                key, value = b"%s/%d" % (name, i), b"v%d" % i
                try:
                    response = kv.kv.Put(pb.PutRequest(key=key, value=value), timeout=5)
                except grpc.RpcError:
                    return
                acked.put(key, value, response.header.revision)
    finally:
        kv.close()


def verify(protos, address, acked, watch_state):
    kv = KVClient(protos, address)
    pb = kv.pb
    everything = kv.kv.Range(pb.RangeRequest(key=b"\x00", range_end=b"\x00"), timeout=10)
    by_key = {item.key: item for item in everything.kvs}
    with acked.lock:
        for key, (value, revision) in acked.puts.items():
            assert key in by_key, f"acknowledged put of {key!r} at {revision} lost"
            assert by_key[key].value == value and by_key[key].mod_revision == revision
        for prefix, revision in acked.txns.items():
            for part in (b"a", b"b", b"c"):
                assert by_key[prefix + part].mod_revision == revision, f"txn {prefix!r} not whole"
    # Transactions are all or nothing, acknowledged or not.
    groups = {}
    for key in by_key:
        if key.startswith(b"txn/"):
            groups.setdefault(key.rsplit(b"/", 1)[0], []).append(by_key[key].mod_revision)
    for prefix, revisions in groups.items():
        assert len(revisions) == 3 and len(set(revisions)) == 1, f"transaction {prefix!r} half applied: {revisions}"
    # No holes: every revision from 2 to the current one holds at least one change (no compaction ran).
    current = everything.header.revision
    history = WatchStream(protos, address)
    history.create(b"\x00", range_end=b"\x00", start_revision=2)
    history.wait_for(lambda r: any(e.kv.mod_revision == current for x in r for e in x.events), timeout=60,
                     what="history replay to reach the current revision")
    seen = sorted({e.kv.mod_revision for x in history.responses for e in x.events})
    assert seen == list(range(2, current + 1)), "the revision sequence has holes"
    history.close()
    # The resuming watcher: what it saw before the crash plus what it sees now is gapless and duplicate-free.
    resume = watch_state["last"] + 1
    watcher = WatchStream(protos, address)
    watcher.create(b"\x00", range_end=b"\x00", start_revision=resume)
    watcher.wait_for(lambda r: any(e.kv.mod_revision == current for x in r for e in x.events) or resume > current,
                     timeout=60, what="resumed watcher to catch up")
    revisions = [e.kv.mod_revision for x in watcher.responses for e in x.events]
    deduplicated = sorted(set(revisions))
    assert deduplicated == list(range(resume, current + 1)), "resumed watch has a gap"
    watch_state["last"] = current
    watcher.close()
    kv.close()
    return current


def kill_round(server, cycle, rng, pause, workers):
    """One round: start the threads `workers(address, cycle, stop, rng)` makes, let them run a random while within
    `pause` seconds, SIGKILL vigil, stop them, and return vigil restarted on the same data directory and port."""
    stop = threading.Event()
    threads = workers(server.address, cycle, stop, rng)
    for thread in threads:
        thread.start()
    time.sleep(rng.uniform(*pause))
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(timeout=30)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    return VigilProcess(data_dir=server.data_dir, port=server.port)


def kill_cycles(seed_offset, pause, workers, check):
    """Rounds of `kill_round`, each followed by `check(address)`. Eight rounds in the suite; DURABILITY_SEED (plus
    `seed_offset`) and DURABILITY_CYCLES make longer soak runs."""
    rng = random.Random(int(os.environ.get("DURABILITY_SEED", "7")) + seed_offset)
    server = VigilProcess()
    try:
        for cycle in range(int(os.environ.get("DURABILITY_CYCLES", "8"))):
            server = kill_round(server, cycle, rng, pause, workers)
            check(server.address)
    finally:
        if server.process.poll() is None:
            server.terminate()


def test_kill_and_restart_loses_no_acknowledged_write(protos):
    acked = Acked()
    watch_state = {"last": 1}

    def workers(address, cycle, stop, rng):
        threads = [threading.Thread(target=writer, args=(protos, address, acked, b"w%d-%d" % (cycle, n), stop))
                   for n in range(3)]
        threads.append(threading.Thread(target=writer, args=(protos, address, acked, b"txn/%d" % cycle, stop, True)))
        return threads

    kill_cycles(0, (0.2, 0.8), workers, lambda address: verify(protos, address, acked, watch_state))
    with acked.lock:
        assert len(acked.puts) > 500, f"too few acknowledged writes ({len(acked.puts)}) to mean much"


def test_stock_go_watcher_resumes_by_itself_across_kills(protos, goclient):
    """clientv3 reconnects a broken watch by itself and resumes it from the last revision it delivered + 1: across
    four SIGKILLs under writes, the one watch sees every change exactly once, in revision order."""
    rng = random.Random(int(os.environ.get("DURABILITY_SEED", "7")) + 3)
    acked = Acked()

    def workers(address, cycle, stop, rng):
        return [threading.Thread(target=writer, args=(protos, address, acked, b"f/%d-%d" % (cycle, n), stop))
                for n in range(3)]

    server = VigilProcess()
    follower = subprocess.Popen([goclient, "-endpoint", server.address, "-follow", "f/"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    try:
        for cycle in range(4):
            server = kill_round(server, cycle, rng, (0.2, 0.6), workers)
        kv = KVClient(protos, server.address)
        kv.kv.Put(kv.pb.PutRequest(key=b"f/end", value=b""), timeout=10)
        stored = kv.kv.Range(kv.pb.RangeRequest(key=b"f/", range_end=b"f0"), timeout=10)
        kv.close()
        output, errors = follower.communicate(timeout=120)
    finally:
        if follower.poll() is None:
            follower.kill()
            follower.communicate()
        server.terminate()
    assert follower.returncode == 0, f"the watching client failed:\n{output}\n{errors}"
    events = [json.loads(line) for line in output.splitlines()]
    events = [e for e in events if "key" in e]  # a line without a key is an error the client reported and retried
    revisions = [e["mod_revision"] for e in events]
    assert revisions == list(range(2, stored.header.revision + 1)), "the resumed watch has a gap or a duplicate"
    assert all(e["type"] == "PUT" for e in events)
    seen = {e["key"].encode(): e["mod_revision"] for e in events}
    assert seen == {kv.key: kv.mod_revision for kv in stored.kvs}, "the watch and the store disagree"
    with acked.lock:
        assert len(acked.puts) > 100, f"too few acknowledged writes ({len(acked.puts)}) to mean much"
        for key, (_, revision) in acked.puts.items():
            assert seen.get(key) == revision, f"acknowledged put of {key!r} at {revision} not watched"


def test_restart_keeps_leases_compaction_and_identity(protos):
    server = VigilProcess()
    kv = KVClient(protos, server.address)
    pb = kv.pb
    lease_stub = protos.rpc_pb2_grpc.LeaseStub(kv.channel)
    lease = lease_stub.LeaseGrant(pb.LeaseGrantRequest(TTL=300), timeout=10)
    kv.kv.Put(pb.PutRequest(key=b"leased", value=b"x", lease=lease.ID), timeout=10)
    for i in range(5):
        kv.kv.Put(pb.PutRequest(key=b"k", value=b"%d" % i), timeout=10)
    kv.kv.Compact(pb.CompactionRequest(revision=5, physical=True), timeout=10)
    before = kv.kv.Range(pb.RangeRequest(key=b"k"), timeout=10)
    kv.close()
    assert server.terminate() == 0
    server = VigilProcess(data_dir=server.data_dir, port=server.port)
    try:
        kv = KVClient(protos, server.address)
        after = kv.kv.Range(pb.RangeRequest(key=b"k"), timeout=10)
        assert after.header.cluster_id == before.header.cluster_id and after.header.member_id == before.header.member_id
        assert after.header.revision == before.header.revision and after.kvs == before.kvs
        outcome = kv.call("Range", _request=pb.RangeRequest(key=b"k", revision=4))
        assert outcome == ("error", "OUT_OF_RANGE", "etcdserver: mvcc: required revision has been compacted")
        lease_stub = protos.rpc_pb2_grpc.LeaseStub(kv.channel)
        ttl = lease_stub.LeaseTimeToLive(pb.LeaseTimeToLiveRequest(ID=lease.ID, keys=True), timeout=10)
        assert ttl.grantedTTL == 300 and ttl.keys == [b"leased"]
        kv.close()
    finally:
        server.terminate()


def test_second_vigil_on_the_same_data_dir_is_refused(vigil):
    import subprocess
    from conftest import VIGIL_BIN, free_port
    result = subprocess.run([VIGIL_BIN, "--data-dir", vigil.data_dir, "--listen-client-urls",
                             f"http://127.0.0.1:{free_port()}"], capture_output=True, text=True, timeout=30)
    assert result.returncode != 0 and "in use by another vigil process" in result.stderr


def test_foreign_database_is_refused(tmp_path):
    import subprocess
    from conftest import VIGIL_BIN, free_port
    db = sqlite3.connect(tmp_path / "vigil.db")
    db.execute("CREATE TABLE other (x)")
    db.commit()
    db.close()
    result = subprocess.run([VIGIL_BIN, "--data-dir", str(tmp_path), "--listen-client-urls",
                             f"http://127.0.0.1:{free_port()}"], capture_output=True, text=True, timeout=30)
    assert result.returncode != 0 and "not a Vigil database" in result.stderr


def test_corrupt_database_is_refused_at_start(protos, tmp_path):
    """A database file that is garbage, or whose pages were overwritten, stops vigil at start with SQLite's words
    and the file's name; nothing is served from it."""
    server = VigilProcess(data_dir=str(tmp_path / "data"))
    try:
        kv = KVClient(protos, server.address)
        for i in range(50):
            assert kv.call("Put", key=b"k%d" % i, value=b"v" * 200)[0] == "ok"
        kv.close()
    finally:
        assert server.terminate() == 0
    db = tmp_path / "data" / "vigil.db"
    with sqlite3.connect(db) as reading:
        root = reading.execute("SELECT rootpage FROM sqlite_master WHERE name = 'revisions'").fetchone()[0]
    content = bytearray(db.read_bytes())
    content[(root - 1) * 4096:root * 4096] = b"\xab" * 4096  # the revision log's root page
    db.write_bytes(bytes(content))
    reason = refusal_at_start(tmp_path / "data")
    assert "vigil.db" in reason and "database disk image is malformed" in reason, reason

    (tmp_path / "garbage").mkdir()
    (tmp_path / "garbage" / "vigil.db").write_bytes(random.Random(7).randbytes(65536))
    reason = refusal_at_start(tmp_path / "garbage")
    assert "vigil.db" in reason and "file is not a database" in reason, reason


def refusal_at_start(data_dir):
    """Starts vigil on `data_dir`, which it must refuse: returns its stderr."""
    from conftest import VIGIL_BIN, free_port
    result = subprocess.run([VIGIL_BIN, "--data-dir", str(data_dir), "--listen-client-urls",
                             f"http://127.0.0.1:{free_port()}"], capture_output=True, text=True, timeout=30)
    assert result.returncode != 0, result.stderr
    return result.stderr


def test_data_dir_under_a_file_is_refused_with_the_reason(tmp_path):
    (tmp_path / "file").write_text("not a directory")
    assert "cannot create data directory" in refusal_at_start(tmp_path / "file" / "data")
    assert "Not a directory" in refusal_at_start(tmp_path / "file" / "data")
    assert "exists and is not a directory" in refusal_at_start(tmp_path / "file")


def test_read_only_data_dir_is_refused_at_start(tmp_path):
    """As root, permissions do not stop writes; a read-only file system does."""
    with tmpfs(tmp_path / "ro", "ro,size=1m") as mount_point:
        assert "Read-only file system" in refusal_at_start(mount_point / "data")
        assert "is not writable" in refusal_at_start(mount_point)


class KeyStates:
    """Per key: the last acknowledged state (value, or None once deleted) and the write in flight, whose outcome a
    kill leaves unknown."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acked = {}      # key -> value or None
        self.pending = {}    # key -> value or None (the write in flight)
        self.compacted = 0   # the newest compaction acknowledged as physical (durable)


def overwriter(protos, address, states, name, stop, seed):
    """Puts and deletes over five keys of its own, again and again."""
    rng = random.Random(seed)
    kv = KVClient(protos, address)
    pb = kv.pb
    i = 0
    try:
        while not stop.is_set():
            i += 1
            key = b"%s/%d" % (name, rng.randrange(5))
            value = None if rng.random() < 0.2 else b"%s-%d" % (name, i)
            with states.lock:
                states.pending[key] = value
            try:
                if value is None:
                    kv.kv.DeleteRange(pb.DeleteRangeRequest(key=key), timeout=5)
                else:
                    kv.kv.Put(pb.PutRequest(key=key, value=value), timeout=5)
            except grpc.RpcError:
                return
            with states.lock:
                states.acked[key] = value
                del states.pending[key]
    finally:
        kv.close()


def compactor(protos, address, states, stop):
    """Compacts a little behind the head, now physically (acknowledged once durable), now not."""
    kv = KVClient(protos, address)
    pb = kv.pb
    physical = False
    try:
        while not stop.wait(0.05):
            try:
                head = kv.kv.Range(pb.RangeRequest(key=b"x"), timeout=5).header.revision
                physical = not physical
                kv.kv.Compact(pb.CompactionRequest(revision=head - 20, physical=physical), timeout=5)
            except grpc.RpcError:
                continue   # compacted already, or the server is gone
            if physical:
                with states.lock:
                    states.compacted = max(states.compacted, head - 20)
    finally:
        kv.close()


def verify_overwrites(protos, address, states):
    kv = KVClient(protos, address)
    pb = kv.pb
    everything = kv.kv.Range(pb.RangeRequest(key=b"\x00", range_end=b"\x00"), timeout=10)
    current = everything.header.revision
    by_key = {item.key: item for item in everything.kvs}
    with states.lock:
        for key in set(states.acked) | set(states.pending):
            found = by_key[key].value if key in by_key else None
            allowed = [states.acked.get(key, None)]
            if key in states.pending:
                allowed.append(states.pending[key])
            assert found in allowed, f"{key!r} holds {found!r}; acknowledged {allowed[0]!r}, in flight {allowed[1:]}"
            # The outcome is known now: what the store holds is the key's acknowledged state from here on.
            states.acked[key] = found
        states.pending.clear()
        compacted = states.compacted
    # The store's compaction point (a watch from revision 1 is cancelled with it) is at least the newest one
    # acknowledged as durable; a later, unacknowledged one may have made it too.
    probe = WatchStream(protos, address)
    probe.create(b"\x00", range_end=b"\x00", start_revision=1)
    probe.wait_for(lambda r: any(x.canceled for x in r) or any(x.events for x in r), what="the probe watch")
    cancels = [x for x in probe.responses if x.canceled]
    probe.close()
    point = cancels[0].compact_revision if cancels else 0
    assert point >= compacted, f"acknowledged compaction at {compacted} lost (store compacted at {point})"
    # History from the compaction point is whole and consistent: within a key's life the version goes up by one
    # and the create revision stays; a life starts at version 1 with create revision = its revision.
    start = max(point, 2)
    history = WatchStream(protos, address)
    history.create(b"\x00", range_end=b"\x00", start_revision=start)
    history.wait_for(lambda r: any(e.kv.mod_revision == current for x in r for e in x.events) or
                     any(x.canceled for x in r), timeout=60, what="history replay to reach the current revision")
    assert not any(x.canceled for x in history.responses), "replay from the compaction point refused"
    last = {}
    for response in history.responses:
        for event in response.events:
            kv_ = event.kv
            before = last.get(kv_.key)
            if event.type == 1:
                last[kv_.key] = "deleted"
            else:
                if before == "deleted":
                    assert kv_.version == 1 and kv_.create_revision == kv_.mod_revision, f"{kv_}"
                elif before is not None:
                    assert kv_.version == before.version + 1 and kv_.create_revision == before.create_revision, \
                        f"{kv_.key!r}: {before} then {kv_}"
                last[kv_.key] = kv_
    history.close()
    # Filters on create revision answer from the key index, rebuilt at start: they agree with the stored values.
    for bound in sorted({item.create_revision for item in by_key.values()}):
        newer = kv.kv.Range(pb.RangeRequest(key=b"\x00", range_end=b"\x00", min_create_revision=bound,
                                            keys_only=True), timeout=10)
        expected = sorted(key for key, item in by_key.items() if item.create_revision >= bound)
        assert sorted(item.key for item in newer.kvs) == expected, f"min_create_revision={bound}"
    # The current state agrees with the history's last word on every key it touched.
    for key, state in last.items():
        if state == "deleted":
            assert key not in by_key
        else:
            assert by_key[key].mod_revision == state.mod_revision and by_key[key].version == state.version
    kv.close()


def test_kill_and_restart_with_overwrites_deletes_and_compaction(protos):
    states = KeyStates()

    def workers(address, cycle, stop, rng):
        threads = [threading.Thread(target=overwriter, args=(protos, address, states, b"o%d" % n, stop, rng.random()))
                   for n in range(3)]
        threads.append(threading.Thread(target=compactor, args=(protos, address, states, stop)))
        return threads

    kill_cycles(1, (0.3, 0.9), workers, lambda address: verify_overwrites(protos, address, states))
    with states.lock:
        assert states.compacted > 0, "no compaction was acknowledged: the run checked nothing about it"


@contextlib.contextmanager
def tmpfs(mount_point, options):
    """A tmpfs mounted at `mount_point` with `options` (needs root, as CI has); the test is skipped where
    mounting is not allowed."""
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mount_point)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


@pytest.fixture
def small_filesystem(tmp_path):
    """A 2 MiB tmpfs to fill."""
    with tmpfs(tmp_path / "small", "size=2m") as mount_point:
        yield mount_point


def test_full_disk_refuses_writes_loses_nothing_and_recovers(protos, small_filesystem):
    """A disk that fills: the write that met it waits (never acknowledged while it is not durable), later writes
    that add data are refused with etcd's NOSPACE, reads go on; once space is freed everything waiting is written
    and writes are accepted again; after a restart every acknowledged write is there."""
    data_dir = small_filesystem / "data"
    ballast = small_filesystem / "ballast"
    ballast.write_bytes(b"\0" * (600 * 1024))  # freed later, as an operator would free space
    server = VigilProcess(data_dir=str(data_dir))
    try:
        kv = KVClient(protos, server.address)
        pb = kv.pb
        value = b"v" * 4096
        acknowledged = []
        stuck = None
        for i in range(2000):
            key = b"fill/%05d" % i
            try:
                kv.kv.Put(pb.PutRequest(key=key, value=value), timeout=3)
                acknowledged.append(key)
            except grpc.RpcError as error:
                # The write that met the full disk is applied in memory but not durable: it is never
                # acknowledged while the disk is full (the client's deadline passes) — unless it was refused.
                assert error.code() in (grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.RESOURCE_EXHAUSTED), error
                if error.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                    stuck = key
                break
        else:
            raise AssertionError("the disk never filled")
        assert acknowledged, "some writes fit before the disk filled"
        # Writes that add data are now refused at once, with etcd's error; reads go on.
        refused = wait_until(lambda: (lambda o: o if o[0] == "error" and o[1] == "RESOURCE_EXHAUSTED" else None)(
            kv.call("Put", key=b"refused", value=value)), what="puts to be refused")
        assert refused == ("error", "RESOURCE_EXHAUSTED", "etcdserver: mvcc: database space exceeded")
        status, body = kv.call("Range", key=acknowledged[-1])
        assert status == "ok" and len(body["kvs"]) == 1
        assert "flushing to the data directory failed" in server.read_log()

        ballast.unlink()
        # The committer's retry goes through: the write that met the full disk becomes durable and visible, and
        # writes are accepted again.
        if stuck is not None:
            wait_until(lambda: kv.call("Range", key=stuck)[1].get("kvs"), what="the waiting write to be written")
        wait_until(lambda: kv.call("Put", key=b"after", value=b"x")[0] == "ok", what="writes to be accepted again")
        kv.close()
    finally:
        assert server.terminate() == 0
    server = VigilProcess(data_dir=str(data_dir))
    try:
        kv = KVClient(protos, server.address)
        for key in acknowledged + [b"after"] + ([stuck] if stuck else []):
            status, body = kv.call("Range", key=key)
            assert status == "ok" and len(body.get("kvs", [])) == 1, key
        status, body = kv.call("Range", key=b"refused")
        assert status == "ok" and not body.get("kvs"), "a refused write is not there"
        kv.close()
    finally:
        assert server.terminate() == 0
