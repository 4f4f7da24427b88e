"""Durability: writers under load, `vigil` killed with SIGKILL at random moments and restarted on the same data
directory, many times. Every acknowledged write must be there after each restart, no transaction may be half
applied, the revision sequence has no holes, and a watcher resuming from its last seen revision + 1 continues
without gap or duplicate."""
import os
import random
import signal
import threading
import time

import grpc

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


def test_kill_and_restart_loses_no_acknowledged_write(protos):
    # Fixed for the suite; DURABILITY_SEED and DURABILITY_CYCLES make longer soak runs of the same check.
    rng = random.Random(int(os.environ.get("DURABILITY_SEED", "7")))
    server = VigilProcess()
    data_dir = server.data_dir
    acked = Acked()
    watch_state = {"last": 1}
    cycles = int(os.environ.get("DURABILITY_CYCLES", "8"))
    try:
        for cycle in range(cycles):
            stop = threading.Event()
            threads = [threading.Thread(target=writer, args=(protos, server.address, acked, b"w%d-%d" % (cycle, n), stop))
                       for n in range(3)]
            threads.append(threading.Thread(target=writer, args=(protos, server.address, acked, b"txn/%d" % cycle, stop, True)))
            for thread in threads:
                thread.start()
            time.sleep(rng.uniform(0.2, 0.8))   # let the writers run a random while before the kill
            server.process.send_signal(signal.SIGKILL)
            server.process.wait(timeout=30)
            stop.set()
            for thread in threads:
                thread.join(timeout=30)
            server = VigilProcess(data_dir=data_dir, port=server.port)
            verify(protos, server.address, acked, watch_state)
        with acked.lock:
            assert len(acked.puts) > 500, f"too few acknowledged writes ({len(acked.puts)}) to mean much"
    finally:
        if server.process.poll() is None:
            server.terminate()


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
    import sqlite3
    import subprocess
    from conftest import VIGIL_BIN, free_port
    db = sqlite3.connect(tmp_path / "vigil.db")
    db.execute("CREATE TABLE other (x)")
    db.commit()
    db.close()
    result = subprocess.run([VIGIL_BIN, "--data-dir", str(tmp_path), "--listen-client-urls",
                             f"http://127.0.0.1:{free_port()}"], capture_output=True, text=True, timeout=30)
    assert result.returncode != 0 and "not a Vigil database" in result.stderr
