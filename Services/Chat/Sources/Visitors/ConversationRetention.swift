import Contract
import Foundation
import Logging
import Platform
import PostgresNIO
import ServiceLifecycle

/// Deletes conversations older than their widget's `retention_days`, hourly, one tenant at a time
/// under that tenant's row-level security.
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
        await repeatUntilShutdown(every: interval, logger: logger, failure: "retention sweep failed; retrying next time") {
            let deleted = try await sweep()
            if deleted > 0 { logger.info("deleted expired conversations", metadata: ["sessions": "\(deleted)"]) }
        }
    }

    /// One pass over every tenant with widgets; returns how many sessions went. The database
    /// enters each tenant itself (`chat.purge_expired_conversations()`): this service holds no
    /// ticket for tenants that are not making a request.
    @discardableResult
    public func sweep() async throws -> Int {
        try await client.query("SELECT chat.purge_expired_conversations()", logger: logger)
            .collect().first?.decode(Int.self) ?? 0
    }
}
