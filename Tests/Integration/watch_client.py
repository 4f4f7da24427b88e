"""A Watch stream on grpcio with stubs generated from Vigil's own Protos/: requests go in through a queue, responses
are collected by a reader thread, and tests wait on conditions (never on fixed sleeps)."""
import queue
import threading
import time

import grpc
from google.protobuf import json_format


class WatchStream:
    def __init__(self, protos, address, channel=None, metadata=None):
        self.pb = protos.rpc_pb2
        self.own_channel = channel is None
        self.channel = channel or grpc.insecure_channel(address)
        self.requests = queue.Queue()
        self.responses = []
        self.error = None
        self.condition = threading.Condition()
        stub = protos.rpc_pb2_grpc.WatchStub(self.channel)
        self.call = stub.Watch(self._iterate(), metadata=metadata)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _iterate(self):
        while True:
            item = self.requests.get()
            if item is None:
                return
            yield item

    def _read(self):
        try:
            for response in self.call:
                with self.condition:
                    self.responses.append(response)
                    self.condition.notify_all()
        except grpc.RpcError as error:
            with self.condition:
                self.error = error
                self.condition.notify_all()

    def create(self, key, range_end=b"", **fields):
        self.requests.put(self.pb.WatchRequest(create_request=self.pb.WatchCreateRequest(
            key=key, range_end=range_end, **fields)))

    def cancel(self, watch_id):
        self.requests.put(self.pb.WatchRequest(cancel_request=self.pb.WatchCancelRequest(watch_id=watch_id)))

    def progress(self):
        self.requests.put(self.pb.WatchRequest(progress_request=self.pb.WatchProgressRequest()))

    def wait_for(self, predicate, timeout=30, what="responses"):
        deadline = time.monotonic() + timeout
        with self.condition:
            while not predicate(self.responses):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"timed out waiting for {what}; got {self.dicts()}")
                self.condition.wait(remaining)
            return list(self.responses)

    def wait_count(self, count, timeout=30):
        return self.wait_for(lambda r: len(r) >= count, timeout, f"{count} responses")

    def dicts(self):
        with self.condition:
            return [normalise(json_format.MessageToDict(r, preserving_proto_field_name=True)) for r in self.responses]

    def events(self, watch_id=None):
        """(revision, type, key, value) of every event received, for one watch id or all."""
        out = []
        with self.condition:
            for response in self.responses:
                if watch_id is not None and response.watch_id != watch_id:
                    continue
                for event in response.events:
                    out.append((event.kv.mod_revision, event.type, event.kv.key, event.kv.value))
        return out

    def close(self):
        self.call.cancel()
        self.requests.put(None)
        if self.own_channel:
            self.channel.close()


def normalise(value):
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items() if k not in ("cluster_id", "member_id", "raft_term")}
    if isinstance(value, list):
        return [normalise(v) for v in value]
    return value
