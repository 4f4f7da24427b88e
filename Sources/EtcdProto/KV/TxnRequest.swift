/// `etcdserverpb.Compare`: one condition of a transaction.
public struct Compare: Sendable, Equatable {
    /// `Compare.CompareResult`; unknown wire values are kept.
    public struct Result: RawRepresentable, Sendable, Equatable {
        public var rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        public static let equal = Result(rawValue: 0)
        public static let greater = Result(rawValue: 1)
        public static let less = Result(rawValue: 2)
        public static let notEqual = Result(rawValue: 3)
    }

    /// `Compare.CompareTarget`; unknown wire values are kept.
    public struct Target: RawRepresentable, Sendable, Equatable {
        public var rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        public static let version = Target(rawValue: 0)
        public static let create = Target(rawValue: 1)
        public static let mod = Target(rawValue: 2)
        public static let value = Target(rawValue: 3)
        public static let lease = Target(rawValue: 4)
    }

    /// The `target_union` oneof: the operand compared against.
    public enum Operand: Sendable, Equatable {
        case version(Int64)
        case createRevision(Int64)
        case modRevision(Int64)
        case value([UInt8])
        case lease(Int64)
    }

    public var result: Result = .equal
    public var target: Target = .version
    public var key: [UInt8] = []
    public var rangeEnd: [UInt8] = []
    /// nil when the client set no operand (etcd then compares against zero / the empty value).
    public var operand: Operand?

    public init(
        key: [UInt8] = [], rangeEnd: [UInt8] = [], target: Target = .version, result: Result = .equal,
        operand: Operand? = nil
    ) {
        self.key = key
        self.rangeEnd = rangeEnd
        self.target = target
        self.result = result
        self.operand = operand
    }
}

/// `etcdserverpb.RequestOp`: one operation of a transaction branch.
public enum RequestOp: Sendable, Equatable {
    case range(RangeRequest)
    case put(PutRequest)
    case deleteRange(DeleteRangeRequest)
    case txn(TxnRequest)
    /// The oneof was not set (etcd answers "etcdserver: key not found").
    case none
}

/// `etcdserverpb.ResponseOp`: the result of one operation, in the order the operations ran.
public enum ResponseOp: Sendable, Equatable {
    case range(RangeResponse)
    case put(PutResponse)
    case deleteRange(DeleteRangeResponse)
    case txn(TxnResponse)
}

/// `etcdserverpb.TxnRequest`.
public struct TxnRequest: ProtoMessage {
    public var compare: [Compare] = []
    public var success: [RequestOp] = []
    public var failure: [RequestOp] = []

    public init(compare: [Compare] = [], success: [RequestOp] = [], failure: [RequestOp] = []) {
        self.compare = compare
        self.success = success
        self.failure = failure
    }
}

/// `etcdserverpb.TxnResponse`.
public struct TxnResponse: ProtoMessage {
    public var header: ResponseHeader?
    public var succeeded = false
    public var responses: [ResponseOp] = []

    public init(header: ResponseHeader? = nil, succeeded: Bool = false, responses: [ResponseOp] = []) {
        self.header = header
        self.succeeded = succeeded
        self.responses = responses
    }
}
