import Contract
import Foundation
import Logging
import ServiceLifecycle

/// Follows a stream as a broadcast (`XREAD BLOCK … $`, no consumer group): every replica sees
/// every event, which is what a cache needs (a consumer group would hand each event to only one
/// gateway replica). It reads only what is published after it starts; whenever it may have missed
/// events (start-up, a Redis outage) it calls `onGap`, so the cache can drop everything instead of
/// serving something stale. Only entries that ``EventVerifier`` accepts reach `onEvent`; others are
/// logged and skipped.
public final class StreamTail: Service, Sendable {
    public typealias Handler = @Sendable (EventEnvelope) async -> Void

    private let stream: EventStream
    private let redis: RedisClient
    private let verifier: EventVerifier
    private let onEvent: Handler
    private let onGap: @Sendable () async -> Void
    private let block: Duration
    private let logger: Logger

    public init(stream: EventStream, redis: RedisClient, verifier: EventVerifier, block: Duration = .milliseconds(1000), logger: Logger,
                onGap: @escaping @Sendable () async -> Void, onEvent: @escaping Handler) {
        self.stream = stream
        self.redis = redis
        self.verifier = verifier
        self.block = block
        self.onEvent = onEvent
        self.onGap = onGap
        self.logger = logger
    }

    public func run() async throws {
        let reader = redis.makeDedicatedConnection(commandTimeout: block + .seconds(5))
        let blockMilliseconds = String(block.milliseconds)
        var cursor: String?
        var backoff = Backoff()
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                if cursor == nil {
                    // The newest id now: read from there, and forget anything cached before.
                    let last = try await redis.send("XREVRANGE", stream.key, "+", "-", "COUNT", "1").array?.first?.array?.first?.string
                    cursor = last ?? "0-0"
                    await onGap()
                }
                let entries = try StreamEntry.fromRead(try await reader.send([
                    "XREAD", "COUNT", "256", "BLOCK", blockMilliseconds, "STREAMS", stream.key, cursor ?? "$"]))
                for entry in entries {
                    cursor = entry.id
                    switch verifier.verify(entry) {
                    case .success(let envelope):
                        await onEvent(envelope)
                    case .failure(let rejection):
                        logger.error("stream entry ignored", metadata: [
                            "stream": "\(stream.key)", "entry": "\(entry.id)", "reason": "\(rejection)"])
                    }
                }
                backoff.reset()
            } catch {
                cursor = nil  // events may have been missed (or trimmed) while failing
                let delay = backoff.next()
                logger.warning("stream tail failed; retrying", metadata: [
                    "stream": "\(stream.key)", "error": "\(error)", "retry_in": "\(delay)"])
                try? await Task.sleep(for: delay)
            }
        }
        await reader.close()
    }
}
