"""Maintenance.Snapshot with `etcdctl snapshot save`, and `vigil snapshot restore`: a backup taken under load comes
back whole at one revision."""
import hashlib
import os
import subprocess
import threading

import grpc

from conftest import VIGIL_BIN, VigilProcess, wait_until
from kv_client import KVClient
from test_kv_etcdctl import etcdctl


def snapshot_files(data_dir):
    return [name for name in os.listdir(data_dir) if ".snapshot-" in name]


def restore(snapshot, data_dir, *extra):
    return subprocess.run([VIGIL_BIN, "snapshot", "restore", str(snapshot), "--data-dir", str(data_dir), *extra],
                          capture_output=True, text=True, timeout=120)


def all_kvs(kv, revision=0):
    pb = kv.pb
    status, body = kv.call("Range", _request=pb.RangeRequest(key=b"\0", range_end=b"\0", revision=revision))
    assert status == "ok", body
    return body.get("kvs", [])


def test_snapshot_under_writes_restores_one_revision_whole(protos, tmp_path, etcd):
    source = VigilProcess(data_dir=str(tmp_path / "source"))
    restored = None
    try:
        kv = KVClient(protos, source.address)
        for i in range(300):  # ~3 MB: about a hundred 32 KiB blobs
            assert kv.call("Put", key=b"big/%03d" % i, value=bytes([i % 256]) * 10_000)[0] == "ok"
        # A writer runs throughout the snapshot; it records what was acknowledged before the snapshot began.
        stop = threading.Event()
        acknowledged_before = []
        snapshot_started = threading.Event()

        def writer():
            client = KVClient(protos, source.address)
            i = 0
            while not stop.is_set():
                before = not snapshot_started.is_set()
                status, body = client.call("Put", key=b"live/%d" % i, value=b"v%d" % i)
                assert status == "ok", body
                if before:
                    acknowledged_before.append(int(body["header"]["revision"]))
                i += 1
            client.close()

        thread = threading.Thread(target=writer)
        thread.start()
        wait_until(lambda: len(acknowledged_before) >= 20, what="the writer to get going")
        snapshot_started.set()
        code, out, err = etcdctl(source.address, "snapshot", "save", str(tmp_path / "vigil.snap"))
        stop.set()
        thread.join(timeout=60)
        assert code == 0, err
        assert out == f"Snapshot saved at {tmp_path / 'vigil.snap'}\n"
        # etcd's own output for the same command.
        assert etcdctl(etcd.address, "snapshot", "save", str(tmp_path / "etcd.snap"))[1] == \
            f"Snapshot saved at {tmp_path / 'etcd.snap'}\n"
        # The file ends with the SHA-256 of what precedes it, as etcd's does.
        data = (tmp_path / "vigil.snap").read_bytes()
        assert len(data) % 512 == 32 and hashlib.sha256(data[:-32]).digest() == data[-32:]
        assert snapshot_files(source.data_dir) == [], "the copy is removed once sent"

        result = restore(tmp_path / "vigil.snap", tmp_path / "restored")
        assert result.returncode == 0, result.stderr
        revision = int(result.stdout.split(" at revision ")[1].split()[0])
        assert revision >= max(acknowledged_before), "every write acknowledged before the snapshot is in it"
        restored = VigilProcess(data_dir=str(tmp_path / "restored"))
        copy = KVClient(protos, restored.address)
        # The restored store is the source as it was at that revision: every key, value and version.
        assert copy.call("Range", key=b"\0")[1]["header"]["revision"] == str(revision)
        assert all_kvs(copy) == all_kvs(kv, revision)
        copy.close()
        kv.close()
    finally:
        assert source.terminate() == 0
        if restored:
            assert restored.terminate() == 0


def test_restore_refuses_a_damaged_or_foreign_file_and_an_occupied_data_dir(vigil, tmp_path, etcd):
    assert etcdctl(vigil.address, "put", "k", "v")[0] == 0
    assert etcdctl(vigil.address, "snapshot", "save", str(tmp_path / "good.snap"))[0] == 0
    data = bytearray((tmp_path / "good.snap").read_bytes())
    data[5000] ^= 0xFF
    (tmp_path / "damaged.snap").write_bytes(bytes(data))
    result = restore(tmp_path / "damaged.snap", tmp_path / "d1")
    assert result.returncode != 0 and "expected sha256" in result.stderr
    assert not (tmp_path / "d1" / "vigil.db").exists()
    # Without the digest (a bare database file) only with --skip-hash-check, as etcdctl.
    (tmp_path / "bare.db").write_bytes((tmp_path / "good.snap").read_bytes()[:-32])
    result = restore(tmp_path / "bare.db", tmp_path / "d2")
    assert result.returncode != 0 and "snapshot missing hash but --skip-hash-check=false" in result.stderr
    assert restore(tmp_path / "bare.db", tmp_path / "d2", "--skip-hash-check").returncode == 0
    # etcd's snapshot is a bbolt file, not a Vigil database: said so, with the way to move etcd's keys over. A data
    # directory the restore made is gone again.
    assert etcdctl(etcd.address, "snapshot", "save", str(tmp_path / "etcd.snap"))[0] == 0
    result = restore(tmp_path / "etcd.snap", tmp_path / "d3")
    assert result.returncode != 0 and "is an etcd snapshot (a bbolt database)" in result.stderr, result.stderr
    assert "etcdctl make-mirror" in result.stderr
    assert not (tmp_path / "d3").exists()
    (tmp_path / "junk.snap").write_bytes(b"x" * 544)
    result = restore(tmp_path / "junk.snap", tmp_path / "d4")
    assert result.returncode != 0 and "is not a snapshot of a Vigil database" in result.stderr
    assert not (tmp_path / "d4").exists()
    # A data directory that holds a database is never overwritten.
    result = restore(tmp_path / "good.snap", tmp_path / "d2")
    assert result.returncode != 0 and "holds a database already" in result.stderr


def test_a_client_that_leaves_mid_snapshot_leaves_nothing_behind(protos, vigil):
    kv = KVClient(protos, vigil.address)
    for i in range(100):
        assert kv.call("Put", key=b"k%d" % i, value=b"x" * 20_000)[0] == "ok"
    maintenance = protos.rpc_pb2_grpc.MaintenanceStub(kv.channel)
    responses = maintenance.Snapshot(kv.pb.SnapshotRequest(), timeout=30)
    first = next(responses)
    assert len(first.blob) == 32 * 1024 and first.remaining_bytes > 0
    responses.cancel()
    wait_until(lambda: snapshot_files(vigil.data_dir) == [], what="the snapshot copy to be removed")
    # The server goes on, and a whole snapshot still works.
    whole = list(maintenance.Snapshot(kv.pb.SnapshotRequest(), timeout=30))
    assert [r.remaining_bytes for r in whole][-2:] == [0, 0] and len(whole[-1].blob) == 32
    assert not whole[0].HasField("header"), "etcd's snapshot responses carry no header"
    assert kv.call("Put", key=b"after", value=b"v")[0] == "ok"
    try:
        kv.close()
    except grpc.RpcError:
        pass
