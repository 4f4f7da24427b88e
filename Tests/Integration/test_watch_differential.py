"""Watch scenarios run against Vigil and a real etcd: the response sequences must match (identity fields aside).

The reference is Debian's etcd 3.4.23. Where etcd 3.5 (the API Vigil implements) answers differently, the step
names the 3.5 answer and is not compared."""
from kv_client import KVClient
from watch_client import WatchStream


def put(kv, key, value):
    kv.call("Put", _request=kv.pb.PutRequest(key=key, value=value))


class Session:
    """One scripted watch session: a KV client and a Watch stream to one server, and the count of responses the
    script has asked for so far."""

    def __init__(self, protos, address):
        self.kv = KVClient(protos, address)
        self.pb = self.kv.pb
        self.stream = WatchStream(protos, address)
        self.expected = 0

    def step(self, count):
        """Waits for `count` more responses than the script waited for so far."""
        self.expected += count
        self.stream.wait_count(self.expected)

    def caught_up(self):
        """Counts every response received so far as waited for (after replays whose response count varies)."""
        self.expected = len(self.stream.responses)

    def events_of(self, watch_id, count):
        self.stream.wait_for(lambda r: sum(len(x.events) for x in r if x.watch_id == watch_id) >= count,
                             what=f"{count} events of watch {watch_id}")

    def responses(self):
        return by_watch_id(self.stream.dicts())

    def close(self):
        self.stream.close()
        self.kv.close()


def scenario(protos, address):
    """Runs one scripted watch session; returns every response, normalised, in order."""
    session = Session(protos, address)
    kv, pb, stream, step = session.kv, session.pb, session.stream, session.step
    try:
        for i in range(3):
            put(kv, b"a", b"v%d" % i)                          # revisions 2, 3, 4
        put(kv, b"b", b"x")                                    # 5
        kv.call("DeleteRange", _request=pb.DeleteRangeRequest(key=b"a"))  # 6
        put(kv, b"a", b"again")                                # 7
        kv.call("Compact", _request=pb.CompactionRequest(revision=3))

        stream.create(b"a"); step(1)                                        # created, rev 0 = now
        stream.create(b"a", start_revision=4, prev_kv=True); step(2)        # created + replay 4, 6, 7
        session.events_of(1, 3)
        session.caught_up()
        stream.create(b"a", start_revision=2); step(2)                      # created + compacted cancel
        stream.create(b"a", range_end=b"\x00", start_revision=5); step(2)   # from-key, replay
        session.events_of(3, 3)
        session.caught_up()
        stream.create(b"\x00", range_end=b"\x00", filters=[pb.WatchCreateRequest.NOPUT]); step(1)
        stream.create(b"b", watch_id=100); step(1)
        stream.create(b"b", watch_id=100); step(1)                          # duplicate id
        stream.create(b"z", range_end=b"a"); step(1)                        # empty range
        stream.cancel(3); step(1)
        stream.cancel(999)                                                  # unknown: no reply
        stream.create(b"q", watch_id=2); step(1)                            # 2, canceled by compaction: still taken
        stream.cancel(2); step(1)                                           # so its cancel is answered
        stream.create(b"q", watch_id=2); step(1)                            # and frees it
        put(kv, b"a", b"live"); put(kv, b"b", b"live")                      # 8, 9
        stream.wait_for(lambda r: any(x.watch_id == 100 and x.events for x in r))
        stream.wait_for(lambda r: any(x.watch_id == 0 and x.events for x in r))
        kv.call("DeleteRange", _request=pb.DeleteRangeRequest(key=b"a", range_end=b"c"))  # 10
        stream.wait_for(lambda r: any(x.watch_id == 4 and x.events for x in r))
        stream.wait_for(lambda r: sum(1 for x in r if x.watch_id == 0 and x.events) >= 2)
        stream.progress()
        stream.wait_for(lambda r: any(x.watch_id == -1 and not x.created for x in r), what="the progress reply")
        return session.responses()
    finally:
        session.close()


def by_watch_id(responses):
    """Responses of different watchers may interleave differently: they are compared per watch id, in order."""
    grouped = {}
    for response in responses:
        grouped.setdefault(response.get("watch_id", "0"), []).append(response)
    return grouped


def assert_same(ours, theirs):
    assert sorted(ours) == sorted(theirs)
    for watch_id in theirs:
        assert ours[watch_id] == theirs[watch_id], f"watch {watch_id}\nvigil: {ours[watch_id]}\netcd:  {theirs[watch_id]}"


def ranges_and_transactions(protos, address):
    """A second session: a transaction's events in one response (with and without prev_kv), a watch from a future
    revision, a replay from exactly the compaction revision, NODELETE with prev_kv, a half-open range and its edges,
    client-chosen and automatic IDs side by side, a DeleteRange over a prefix, events after a cancel, and a progress
    request."""
    session = Session(protos, address)
    kv, pb, stream, step = session.kv, session.pb, session.stream, session.step
    try:
        put(kv, b"p/1", b"a")                                                          # 2
        put(kv, b"p/2", b"b")                                                          # 3
        put(kv, b"c", b"x")                                                            # 4
        kv.call("Compact", _request=pb.CompactionRequest(revision=3))

        events_of = session.events_of
        stream.create(b"p/", range_end=b"p0", prev_kv=True); step(1)                   # 0
        stream.create(b"p/1", start_revision=8); step(1)                              # 1: a future revision
        stream.create(b"p/", range_end=b"p0", start_revision=3); step(1)              # 2: at the compaction revision
        events_of(2, 1)
        session.caught_up()
        stream.create(b"p/", range_end=b"p0", filters=[pb.WatchCreateRequest.NODELETE], prev_kv=True); step(1)  # 3
        stream.create(b"b", range_end=b"d"); step(1)                                   # 4
        stream.create(b"zz", watch_id=7); step(1)                                      # 7
        stream.create(b"zz"); step(1)                                                  # automatic: 5
        kv.call("Txn", _request=pb.TxnRequest(success=[
            pb.RequestOp(request_put=pb.PutRequest(key=b"p/%d" % i, value=b"t%d" % i)) for i in range(3)]))  # 5
        put(kv, b"d", b"edge")                                                         # 6: outside [b, d)
        put(kv, b"b", b"in")                                                           # 7
        put(kv, b"c\xff", b"in")                                                       # 8
        kv.call("DeleteRange", _request=pb.DeleteRangeRequest(key=b"p/", range_end=b"p0"))  # 9
        events_of(0, 6)
        events_of(1, 1)
        events_of(4, 2)
        stream.cancel(0)
        stream.wait_for(lambda r: any(x.watch_id == 0 and x.canceled for x in r), what="the cancel reply")
        put(kv, b"p/9", b"after")                                                      # 10
        events_of(3, 4)
        stream.progress()
        stream.wait_for(lambda r: any(x.watch_id == -1 for x in r), what="the progress reply")
        return session.responses()
    finally:
        session.close()


def test_watch_session_matches_etcd(protos, vigil, etcd):
    assert_same(scenario(protos, vigil.address), scenario(protos, etcd.address))


def test_ranges_and_transactions_match_etcd(protos, vigil, etcd):
    assert_same(ranges_and_transactions(protos, vigil.address), ranges_and_transactions(protos, etcd.address))
