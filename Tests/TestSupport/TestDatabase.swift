import Foundation
import Logging
import Platform
import PostgresNIO

/// A database of one's own for one test, cloned from the migrated template that `scripts/test`
/// prepared (`CREATE DATABASE … TEMPLATE …`): isolated from other tests and fast to make.
public struct TestDatabase: Sendable {
    public let name: String
    public let stack: TestStack

    /// Clones the migrated template; `empty: true` makes a blank database instead.
    public static func make(empty: Bool = false) async throws -> TestDatabase {
        let stack = try TestStack.current()
        let name = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(20)
        let template = empty ? "template0" : stack.templateDatabase
        try await TemplateLock.shared.serially {
            try await withAdmin(stack) { connection in
                try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name) TEMPLATE \(template)"), logger: logger)
            }
        }
        return TestDatabase(name: String(name), stack: stack)
    }

    public var adminURL: DatabaseURL { stack.adminURL(database: name) }

    public func roleURL(_ role: String) -> DatabaseURL { stack.roleURL(role, database: name) }

    /// Runs `body` on a fresh connection as `url`'s role.
    @discardableResult
    public func withConnection<T: Sendable>(
        _ url: DatabaseURL, _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await Self.withConnection(url, body)
    }

    /// Runs `body` on a fresh connection to any database `url` names (not only test databases).
    @discardableResult
    public static func withConnection<T: Sendable>(
        _ url: DatabaseURL, _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        let connection = try await PostgresConnection.connect(
            configuration: try url.connectionConfiguration(), id: 1, logger: Self.logger)
        do {
            let result = try await body(connection)
            try await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// Drops the database (best effort; `scripts/test` throws the whole cluster away anyway).
    public func drop() async {
        try? await Self.withAdmin(stack) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: Self.logger)
        }
    }

    static let logger = Logger(label: "test.database")

    private static func withAdmin(_ stack: TestStack, _ body: (PostgresConnection) async throws -> Void) async throws {
        let connection = try await PostgresConnection.connect(
            configuration: try stack.adminURL(database: "postgres").connectionConfiguration(), id: 1, logger: logger)
        do {
            try await body(connection)
            try await connection.close()
        } catch {
            try? await connection.close()
            throw error
        }
    }
}

/// Serialises template clones: Postgres refuses to copy a template while another session uses it.
actor TemplateLock {
    static let shared = TemplateLock()
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    /// Runs `body` while no other caller's body runs. (An actor alone does not serialise this: it
    /// lets another caller in at every `await` inside the body.)
    func serially(_ body: () async throws -> Void) async throws {
        while busy { await withCheckedContinuation { waiting.append($0) } }
        busy = true
        defer {
            busy = false
            if !waiting.isEmpty { waiting.removeFirst().resume() }
        }
        try await body()
    }
}
