"""A watcher whose client stops reading: the server keeps serving writers and other watchers, holds a bounded
amount for the stalled stream, and delivers every event once the client reads again."""
import h2.events

from h2_raw import RawH2, frame
from kv_client import KVClient
from watch_client import WatchStream

WATCH = "/etcdserverpb.Watch/Watch"


def decode_responses(protos, data):
    responses = []
    while len(data) >= 5:
        length = int.from_bytes(data[1:5], "big")
        if len(data) < 5 + length:
            break
        responses.append(protos.rpc_pb2.WatchResponse.FromString(data[5:5 + length]))
        data = data[5 + length:]
    return responses, data


def test_stalled_watcher_loses_nothing_and_delays_no_one(protos, vigil):
    pb = protos.rpc_pb2
    stalled = RawH2(vigil.address)
    stream_id = stalled.request(WATCH)
    stalled.send(stream_id, frame(pb.WatchRequest(
        create_request=pb.WatchCreateRequest(key=b"hot")).SerializeToString()))
    # Read only the created response, then stop reading (no WINDOW_UPDATEs: the 64 KiB window fills).
    stalled.pump_until(lambda: len(stalled.responses[stream_id]["data"]) > 5)

    healthy = WatchStream(protos, vigil.address)
    healthy.create(b"hot")
    healthy.wait_count(1)

    kv = KVClient(protos, vigil.address)
    value = b"v" * 1024
    count = 3000
    for i in range(count):
        status, body = kv.call("Put", _request=pb.PutRequest(key=b"hot", value=value + b"%d" % i))
        assert status == "ok", body
    # The healthy watcher gets everything while the other stream is stalled.
    healthy.wait_for(lambda r: sum(len(x.events) for x in r) >= count, timeout=60, what="all events on the healthy stream")
    last_revision = healthy.events()[-1][0]

    # Now read the stalled stream to the end: every event arrives, in order, once.
    buffer = stalled.responses[stream_id]["data"]
    seen = []

    def drained():
        nonlocal buffer
        buffer = stalled.responses[stream_id]["data"]
        responses, _ = decode_responses(protos, buffer)
        seen[:] = [e.kv.mod_revision for r in responses for e in r.events]
        return len(seen) >= count

    stalled.pump_until(drained, limit=100000)
    first = last_revision - count + 1
    assert seen == list(range(first, last_revision + 1))
    healthy.close()
    kv.close()
    stalled.close()
