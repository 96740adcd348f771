import Logging
import NIOConcurrencyHelpers
import PostgresNIO

/// Thrown when a watched transaction (``PostgresClient/watchedTransaction(timeout:logger:_:)``)
/// did not finish in time. It says nothing about the work itself: callers retry it.
public struct TransactionDeadlineExceeded: Error, Sendable, CustomStringConvertible {
    public var timeout: Duration
    public var description: String { "the transaction did not finish within \(timeout)" }
}

extension PostgresClient {
    /// Runs `body` in a transaction that must end within `timeout`. Past it the transaction's
    /// connection is closed and ``TransactionDeadlineExceeded`` is thrown at once, without waiting
    /// for the transaction to notice.
    ///
    /// Background loops (the outbox relay, stream consumers) run their transactions through this.
    /// After a Postgres crash queries were seen to wait with no end in sight: consumers'
    /// transactions sat for their whole deadline, and a relay without one published nothing more.
    /// Not waiting for the stuck task keeps the loop going even if closing does not release it;
    /// that task ends whenever its query does.
    public func watchedTransaction<T: Sendable>(
        timeout: Duration, logger: Logger,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let leased = NIOLockedValueBox<PostgresConnection?>(nil)
        do {
            return try await withDeadline(timeout) {
                try await self.withTransaction(logger: logger) { connection in
                    leased.withLockedValue { $0 = connection }
                    return try await body(connection)
                }
            }
        } catch is DeadlineExceeded {
            logger.warning("transaction exceeded its deadline; closing its connection", metadata: ["timeout": "\(timeout)"])
            if let stuck = leased.withLockedValue({ $0 }) {
                // Not awaited: the close may hang as the query did.
                Task { try? await stuck.close() }
            }
            throw TransactionDeadlineExceeded(timeout: timeout)
        }
    }
}
