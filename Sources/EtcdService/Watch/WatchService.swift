public import GRPCServer
import NIOCore
import WatchHub

/// `etcdserverpb.Watch`: the bidirectional Watch stream, one ``WatchHandler`` per stream.
public enum WatchService {
    public static let serviceName = "etcdserverpb.Watch"

    /// Settings of every Watch stream.
    public struct Configuration: Sendable {
        /// A response with at least two events and at least this many bytes is split for watchers that asked for
        /// fragments (etcd: max-request-bytes + 512 KiB).
        public var fragmentThreshold: Int
        /// How often progress-enabled watchers get progress notifications (etcd's default: 10 minutes).
        public var progressNotifyInterval: TimeAmount

        public init(fragmentThreshold: Int, progressNotifyInterval: TimeAmount = .minutes(10)) {
            self.fragmentThreshold = fragmentThreshold
            self.progressNotifyInterval = progressNotifyInterval
        }
    }

    public static func register(into router: inout GRPCRouter, store: EtcdStore, configuration: Configuration) {
        router.registerStreaming(service: serviceName, method: "Watch") { stream in
            WatchHandler(stream: stream, store: store, configuration: configuration)
        }
    }
}
