import Contract
import Foundation
import Logging
import Platform
import PostgresNIO
import ServiceLifecycle

/// Deletes conversations older than their widget's `retention_days`, hourly, one tenant at a time
/// (each in its own tenant transaction: the service role sees no other tenant's rows).
public struct ConversationRetention: Service {
    let client: PostgresClient
    let interval: Duration
    let logger: Logger

    public init(client: PostgresClient, interval: Duration = .seconds(3600), logger: Logger) {
        self.client = client
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let deleted = try await sweep()
                if deleted > 0 { logger.info("deleted expired conversations", metadata: ["sessions": "\(deleted)"]) }
            } catch {
                logger.warning("retention sweep failed; retrying next time", metadata: ["error": "\(error)"])
            }
            // Shutdown must not wait out the interval.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }

    /// One pass over every tenant with widgets; returns how many sessions went.
    @discardableResult
    public func sweep() async throws -> Int {
        let owners = try await client.withConnection { connection in
            try await connection.query("SELECT chat.directory_owners()", logger: logger)
                .collect().map { try $0.decode(UUID.self) }
        }
        var deleted = 0
        for owner in owners {
            deleted += try await client.withTenantTransaction(owner, logger: logger) { connection in
                try await connection.query("""
                    DELETE FROM chat.visitor_sessions s USING chat.widgets w
                    WHERE s.widget_id = w.id AND s.created_at < now() - make_interval(days => w.retention_days)
                    RETURNING s.id
                    """, logger: logger).collect().count
            }
        }
        return deleted
    }
}
