"""Watch options that need a configured server: fragments of a revision larger than the send limit, and periodic
progress notifications."""
from conftest import VigilProcess
from kv_client import KVClient
from watch_client import WatchStream


def test_large_revision_is_fragmented_for_watchers_that_ask(protos):
    # Send limit = max-request-bytes + 512 KiB = 624,288 bytes here.
    server = VigilProcess(extra_args=["--max-request-bytes", "100000"])
    try:
        kv = KVClient(protos, server.address)
        pb = kv.pb
        for i in range(12):
            assert kv.call("Put", _request=pb.PutRequest(key=b"f/%02d" % i, value=bytes([65 + i]) * 90_000))[0] == "ok"
        fragmented = WatchStream(protos, server.address)
        fragmented.create(b"f/", range_end=b"f0", prev_kv=True, fragment=True)
        whole = WatchStream(protos, server.address)
        whole.create(b"f/", range_end=b"f0", prev_kv=True)
        fragmented.wait_count(1)
        whole.wait_count(1)
        # One revision deleting all twelve keys: 12 DELETE events carrying ~1 MB of prev_kv in all.
        status, body = kv.call("DeleteRange", _request=pb.DeleteRangeRequest(key=b"f/", range_end=b"f0"))
        assert status == "ok" and body["deleted"] == "12"
        revision = int(body["header"]["revision"])
        pieces = fragmented.wait_for(lambda r: sum(len(x.events) for x in r) >= 12, what="all fragments")[1:]
        assert len(pieces) >= 2
        assert [p.fragment for p in pieces] == [True] * (len(pieces) - 1) + [False]
        assert all(p.header.revision == revision for p in pieces)
        assert all(p.ByteSize() < 624_288 + 100_000 for p in pieces)
        events = [e for p in pieces for e in p.events]
        assert [e.kv.key for e in events] == [b"f/%02d" % i for i in range(12)]
        assert all(e.prev_kv.value == bytes([65 + i]) * 90_000 for i, e in enumerate(events))
        # Without `fragment`, the revision arrives whole in one response.
        unsplit = whole.wait_for(lambda r: sum(len(x.events) for x in r) >= 12, what="the whole revision")[1:]
        assert len(unsplit) == 1 and len(unsplit[0].events) == 12 and not unsplit[0].fragment
        for stream in (fragmented, whole):
            stream.close()
        kv.close()
    finally:
        assert server.terminate() == 0


def test_periodic_progress_notifications(protos):
    server = VigilProcess(extra_args=["--experimental-watch-progress-notify-interval", "200ms"])
    try:
        kv = KVClient(protos, server.address)
        pb = kv.pb
        kv.call("Put", _request=pb.PutRequest(key=b"other", value=b"x"))
        stream = WatchStream(protos, server.address)
        stream.create(b"quiet", progress_notify=True)
        stream.create(b"silent")  # no progress_notify: never notified
        responses = stream.wait_for(lambda r: sum(1 for x in r if not x.created) >= 2, what="two progress notifications")
        notifications = [x for x in responses if not x.created]
        for notification in notifications[:2]:
            assert notification.watch_id == 0 and not notification.events and not notification.canceled
            assert notification.header.revision == 2 and notification.compact_revision == 0
        stream.close()
        kv.close()
    finally:
        assert server.terminate() == 0
