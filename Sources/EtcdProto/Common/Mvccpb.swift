/// Messages of etcd's `mvccpb` package, namespaced so they never clash with the store's own types.
public enum Mvccpb {
    /// `mvccpb.KeyValue`.
    public struct KeyValue: Sendable, Equatable {
        public var key: [UInt8]
        public var createRevision: Int64
        public var modRevision: Int64
        public var version: Int64
        public var value: [UInt8]
        public var lease: Int64

        public init(
            key: [UInt8] = [], createRevision: Int64 = 0, modRevision: Int64 = 0, version: Int64 = 0,
            value: [UInt8] = [], lease: Int64 = 0
        ) {
            self.key = key
            self.createRevision = createRevision
            self.modRevision = modRevision
            self.version = version
            self.value = value
            self.lease = lease
        }
    }

    /// `mvccpb.Event`.
    public struct Event: Sendable, Equatable {
        /// `mvccpb.Event.EventType`.
        public enum EventType: Int32, Sendable {
            case put = 0
            case delete = 1
        }

        public var type: EventType
        public var kv: KeyValue?
        public var prevKV: KeyValue?

        public init(type: EventType, kv: KeyValue?, prevKV: KeyValue? = nil) {
            self.type = type
            self.kv = kv
            self.prevKV = prevKV
        }
    }
}
