/// Tunables of the watch hub, with their defaults.
public struct WatchHubConfiguration: Sendable {
    /// Responses a stream may have queued in the hub before its live watchers are parked as unsynced (and later
    /// caught up from history). Together with the transport's own per-stream window this bounds a slow stream's
    /// memory.
    public var streamBudgetBytes = 1 << 20
    /// The size a catch-up response aims at: it holds whole revisions, stopping after this many bytes.
    public var catchUpBatchBytes = 1 << 20
    /// Responses waiting on a stream from which a watcher's new events join its waiting events response (up to
    /// `catchUpBatchBytes`) instead of queueing one response per revision.
    public var mergeBacklog = 128
    /// Bytes of built catch-up responses kept for other watchers resuming from the same revision.
    public var catchUpShareBytes = 8 << 20
    /// Recent revisions kept encoded in memory for catch-up, by bytes and by count.
    public var logMaxBytes = 64 << 20
    public var logMaxEntries = 100_000

    public init() {}
}
