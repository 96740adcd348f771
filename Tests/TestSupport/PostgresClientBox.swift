import Logging
import Platform
import PostgresNIO

/// Runs a `PostgresClient` for the duration of a test body (its pool needs `run()` going).
public struct PostgresClientBox: Sendable {
    public let client: PostgresClient

    public init(url: DatabaseURL, maximumConnections: Int = 1) {
        client = PostgresClient(
            configuration: url.clientConfiguration(maximumConnections: maximumConnections),
            backgroundLogger: Logger(label: "test.postgres"))
    }

    public func run<T: Sendable>(_ body: @Sendable (PostgresClient) async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }
}
