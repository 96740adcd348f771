import Logging
import ServiceLifecycle

/// Runs `pass` every `interval` until the service shuts down: the loop of the background sweeps
/// (retention, ending idle conversations, purges). A failing pass is logged and tried again at the
/// next round; a graceful shutdown ends the wait at once.
public func repeatUntilShutdown(every interval: Duration, logger: Logger, failure: String,
                                _ pass: () async throws -> Void) async {
    while !Task.isShuttingDownGracefully && !Task.isCancelled {
        do {
            try await pass()
        } catch {
            logger.warning("\(failure)", metadata: ["error": "\(error)"])
        }
        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
    }
}
