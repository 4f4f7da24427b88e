"""A randomized check of etcd's watch guarantees (etcd-semantics §9.5) against the write log: concurrent writers,
many watchers with random ranges, filters and start revisions on several streams, random cancels, disconnects
with resume from the last seen revision + 1, and compactions.

For every watcher: events are ordered, without gaps or duplicates, each revision's events arrive in one response,
and what arrived is exactly the write log filtered by the watcher's range and filters — from its start to the end
(or to where it was canceled or compacted, which it must be told about)."""
import os
import random
import threading
import time

from kv_client import KVClient
from watch_client import WatchStream

KEYS = [b"k%02d" % i for i in range(16)] + [b"p/%d" % i for i in range(8)]
PUT, DELETE = 0, 1


def in_range(key, start, end):
    if end == b"":
        return key == start
    if end == b"\x00":
        return key >= start
    return start <= key < end


class WriteLog:
    """revision → [(type, key, value)] built from the writers' own responses."""

    def __init__(self):
        self.lock = threading.Lock()
        self.revisions = {}

    def add(self, revision, events):
        with self.lock:
            assert revision not in self.revisions, f"revision {revision} produced twice"
            self.revisions[revision] = events


def writer(protos, address, log, seed, count):
    rng = random.Random(seed)
    kv = KVClient(protos, address)
    pb = kv.pb
    try:
        for _ in range(count):
            choice = rng.random()
            if choice < 0.6:
                key, value = rng.choice(KEYS), b"%d" % rng.randrange(10 ** 6)
                status, body = kv.call("Put", _request=pb.PutRequest(key=key, value=value))
                assert status == "ok", body
                log.add(int(body["header"]["revision"]), [(PUT, key, value)])
            elif choice < 0.8:
                key = rng.choice(KEYS)
                end = rng.choice([b"", b"", key + b"\xff"])
                status, body = kv.call("DeleteRange", _request=pb.DeleteRangeRequest(key=key, range_end=end, prev_kv=True))
                assert status == "ok", body
                if int(body.get("deleted", 0)) > 0:
                    import base64
                    keys = sorted(base64.b64decode(p["key"]) for p in body["prev_kvs"])
                    log.add(int(body["header"]["revision"]), [(DELETE, k, b"") for k in keys])
            else:
                a, b = rng.sample(KEYS, 2)
                ops = [pb.RequestOp(request_put=pb.PutRequest(key=a, value=b"t")),
                       pb.RequestOp(request_put=pb.PutRequest(key=b, value=b"u"))]
                status, body = kv.call("Txn", _request=pb.TxnRequest(success=ops))
                assert status == "ok", body
                log.add(int(body["header"]["revision"]), [(PUT, a, b"t"), (PUT, b, b"u")])
    finally:
        kv.close()


class TrackedWatch:
    """One logical watch, possibly spanning several streams through resumes."""

    def __init__(self, key, end, filters, start):
        self.key, self.end, self.filters, self.first_start = key, end, filters, start
        self.segments = []      # (stream, watch_id, start) per stream it lived on
        self.ended = None       # "canceled", ("compacted", revision) or None (still live at the end)


def test_watch_guarantees_under_random_faults(protos, vigil):
    # A fixed seed keeps the suite deterministic; WATCH_GUARANTEE_SEED explores others (bench or soak runs).
    rng = random.Random(int(os.environ.get("WATCH_GUARANTEE_SEED", "424242")))
    log = WriteLog()
    setup = KVClient(protos, vigil.address)
    pb = setup.pb
    for key in KEYS:   # some history before the first watches
        status, body = setup.call("Put", _request=pb.PutRequest(key=key, value=b"init"))
        log.add(int(body["header"]["revision"]), [(PUT, key, b"init")])

    streams = [WatchStream(protos, vigil.address) for _ in range(4)]
    watches = []
    created_counts = {id(s): 0 for s in streams}

    def open_watch(stream, watch, start):
        before = created_counts[id(stream)]
        stream.create(watch.key, range_end=watch.end, start_revision=start, filters=watch.filters)
        created_counts[id(stream)] += 1
        responses = stream.wait_for(
            lambda r: sum(1 for x in r if x.created) > before, what="created response")
        created = [x for x in responses if x.created][before]
        assert not created.canceled, created
        effective = start if start > 0 else created.header.revision + 1
        watch.segments.append((stream, created.watch_id, effective))

    def random_watch():
        shape = rng.random()
        if shape < 0.4:
            key, end = rng.choice(KEYS), b""
        elif shape < 0.7:
            key, end = b"p/", b"p0"
        elif shape < 0.85:
            key, end = rng.choice(KEYS), b"\x00"
        else:
            key, end = b"\x00", b"\x00"
        filters = rng.choice([[], [], [pb.WatchCreateRequest.NOPUT], [pb.WatchCreateRequest.NODELETE]])
        return TrackedWatch(key, end, filters, 0)

    for _ in range(40):
        watch = random_watch()
        start = rng.choice([0, 0, rng.randrange(2, len(KEYS) + 2)])
        watch.first_start = start
        open_watch(rng.choice(streams), watch, start)
        watches.append(watch)

    writers = [threading.Thread(target=writer, args=(protos, vigil.address, log, seed, 300)) for seed in range(4)]
    for thread in writers:
        thread.start()

    # Faults while the writers run: cancels, disconnect-and-resume, new watches from the past, compactions.
    compacted_to = 0
    for round_ in range(60):
        time.sleep(0.01)
        fault = rng.random()
        live = [w for w in watches if w.ended is None]
        if fault < 0.2 and live:
            watch = rng.choice(live)
            stream, watch_id, _ = watch.segments[-1]
            stream.cancel(watch_id)
            watch.ended = "canceled"
        elif fault < 0.45 and live:
            # Disconnect a whole stream; its live watches resume on a new stream from their last event + 1.
            victim = rng.choice(streams)
            victim.close()
            streams.remove(victim)
            replacement = WatchStream(protos, vigil.address)
            created_counts[id(replacement)] = 0
            streams.append(replacement)
            for watch in watches:
                if watch.ended is None and watch.segments[-1][0] is victim:
                    _, watch_id, start = watch.segments[-1]
                    seen = [rev for rev, *_ in victim.events(watch_id)]
                    resume = (max(seen) + 1) if seen else start
                    compact_cancel = [x for x in victim.responses if x.watch_id == watch_id and x.compact_revision]
                    if compact_cancel:
                        watch.ended = ("compacted", compact_cancel[0].compact_revision)
                        continue
                    if resume <= compacted_to:
                        watch.ended = ("resume-compacted", compacted_to)
                        watch.segments.append((None, None, resume))
                        continue
                    open_watch(replacement, watch, resume)
        elif fault < 0.7:
            with log.lock:
                top = max(log.revisions)
            watch = random_watch()
            start = rng.randrange(max(compacted_to + 1, 2), top + 1)
            watch.first_start = start
            open_watch(rng.choice(streams), watch, start)
            watches.append(watch)
        elif fault < 0.8:
            with log.lock:
                top = max(log.revisions)
            target = top - 40
            if target > compacted_to:
                status, body = setup.call("Compact", _request=pb.CompactionRequest(revision=target))
                assert status == "ok", body
                compacted_to = target

    for thread in writers:
        thread.join(timeout=120)
    with log.lock:
        revisions = dict(log.revisions)
    last = max(revisions)
    assert sorted(revisions) == list(range(2, last + 1)), "the revision sequence has holes"

    def expected_events(watch, start, through):
        out = []
        for revision in range(start, through + 1):
            for kind, key, value in revisions.get(revision, []):
                if not in_range(key, watch.key, watch.end):
                    continue
                if kind == PUT and pb.WatchCreateRequest.NOPUT in watch.filters:
                    continue
                if kind == DELETE and pb.WatchCreateRequest.NODELETE in watch.filters:
                    continue
                out.append((revision, kind, key, value))
        return out

    # Every live watcher must reach the last revision; then compare everything.
    for watch in watches:
        stream, watch_id, start = watch.segments[-1]
        if watch.ended is None:
            expected_tail = expected_events(watch, start, last)
            stream.wait_for(
                lambda r: (len([1 for x in r if x.watch_id == watch_id for _ in x.events]) >= len(expected_tail))
                or any(x.watch_id == watch_id and x.compact_revision for x in r),
                timeout=60, what=f"watch {watch_id} to catch up")
            if any(x.watch_id == watch_id and x.compact_revision for x in stream.responses):
                watch.ended = ("compacted", next(x.compact_revision for x in stream.responses
                                                 if x.watch_id == watch_id and x.compact_revision))

    checked = 0
    for watch in watches:
        for index, (stream, watch_id, start) in enumerate(watch.segments):
            if stream is None:
                continue
            responses = [x for x in stream.responses if x.watch_id == watch_id and not x.created]
            got = []
            for response in responses:
                revs = [e.kv.mod_revision for e in response.events]
                # Atomic: a revision never continues in a later response.
                for revision in set(revs):
                    assert not any(revision == e[0] for e in got), f"revision {revision} split across responses"
                got += [(e.kv.mod_revision, e.type, e.kv.key, e.kv.value) for e in response.events]
            if not got:
                continue
            is_last_segment = index == len(watch.segments) - 1
            through = last if (is_last_segment and watch.ended is None) else got[-1][0]
            want = expected_events(watch, start, through)
            assert got == want, (
                f"watch {watch.key!r}..{watch.end!r} filters {watch.filters} from {start}:\n got  {got[:10]}…\n want {want[:10]}…")
            checked += len(got)
    for stream in streams:
        stream.close()
    setup.close()
    assert checked > 1000, f"too few events checked ({checked}) for the test to mean much"
