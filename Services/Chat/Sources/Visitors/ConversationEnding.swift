import Foundation
import Logging
import PostgresNIO
import Platform
import ServiceLifecycle

/// Ends the conversations nobody wrote in for ``WebhookSettings/conversationIdle``, every minute
/// (or sooner when the idle time is shorter), for every tenant: `chat.end_idle_conversations`
/// marks each and writes its `chat.conversation.ended` event in one transaction.
public struct ConversationEnding: Service {
    let client: PostgresClient
    let idle: Duration
    let logger: Logger

    public init(client: PostgresClient, idle: Duration, logger: Logger) {
        self.client = client
        self.idle = idle
        self.logger = logger
    }

    public func run() async throws {
        let interval = min(Duration.seconds(60), max(idle / 4, .milliseconds(250)))
        await repeatUntilShutdown(every: interval, logger: logger, failure: "ending idle conversations failed; retrying next time") {
            let ended = try await endIdle()
            if ended > 0 { logger.info("conversations ended", metadata: ["sessions": "\(ended)"]) }
        }
    }

    /// One pass; how many conversations ended.
    @discardableResult
    public func endIdle() async throws -> Int {
        let idle = "\(idle.milliseconds) milliseconds"
        return try await client.query("SELECT chat.end_idle_conversations(\(idle)::interval)", logger: logger)
            .collect().first?.decode(Int.self) ?? 0
    }
}
