"""A KV client on grpcio with stubs generated from Vigil's own Protos/, used identically against Vigil and etcd."""
import grpc
from google.protobuf import json_format


class KVClient:
    def __init__(self, protos, address):
        self.pb = protos.rpc_pb2
        self.channel = grpc.insecure_channel(address)
        self.kv = protos.rpc_pb2_grpc.KVStub(self.channel)

    def close(self):
        self.channel.close()

    def call(self, method, **fields):
        """Calls KV/<method>; returns ("ok", response-as-dict) or ("error", code name, message)."""
        request_type = {"Range": self.pb.RangeRequest, "Put": self.pb.PutRequest,
                        "DeleteRange": self.pb.DeleteRangeRequest, "Txn": self.pb.TxnRequest,
                        "Compact": self.pb.CompactionRequest}[method]
        request = fields.pop("_request", None) or request_type(**fields)
        return outcome(getattr(self.kv, method), request)


def outcome(method, request):
    """Calls a unary stub method; returns ("ok", response-as-dict) or ("error", code name, message)."""
    try:
        response = method(request, timeout=10)
    except grpc.RpcError as error:
        return ("error", error.code().name, error.details())
    return ("ok", normalise(json_format.MessageToDict(response, preserving_proto_field_name=True)))


def normalise(value):
    """Drops the fields that legitimately differ between servers: cluster_id, member_id, raft_term."""
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items() if k not in ("cluster_id", "member_id", "raft_term")}
    if isinstance(value, list):
        return [normalise(v) for v in value]
    return value
