import Foundation
import Platform

/// A Postgres cluster of a test's own (durable: fsync on), migrated like production, that the
/// test may crash and restart without disturbing the shared test server. It is driven through
/// `scripts/lib/stack.sh`, the same functions `scripts/test` and `scripts/dev` use (including
/// running the server as an unprivileged user when the tests run as root).
public final class PostgresServerProcess: @unchecked Sendable {
    public let port: Int
    public let adminPassword: String
    public let rolePassword: String
    public let database = "contexo_fault"
    private let directory: URL
    private let repository: URL
    private let binDirectory: URL

    /// Why a cluster operation failed, with the script's output.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public init() throws {
        let stack = try TestStack.current()
        guard let bin = stack.binDirectory else { throw TestStack.NotConfigured(missing: ["CONTEXO_TEST_BIN_DIR"]) }
        binDirectory = bin
        repository = stack.repository
        port = freePort()
        adminPassword = UUID().uuidString.lowercased()
        rolePassword = UUID().uuidString.lowercased()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("contexo-pg-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o711])
    }

    private var dataDirectory: String { directory.appendingPathComponent("data").path }
    private var logFile: String { directory.appendingPathComponent("postgres.log").path }

    /// initdb, start, create the database and run contexo-migrate on it.
    public func start() async throws {
        try await stack("""
            stack_pg_init "$DATA" "$ADMIN_PASSWORD"
            stack_pg_start "$DATA" "$PORT" "$LOG"
            STACK_PG_PASSWORD=$ADMIN_PASSWORD
            stack_pg_create_database "$DATABASE"
            stack_migrate "$BIN" "$PORT" "$DATABASE" "$ADMIN_PASSWORD" "$ROLE_PASSWORD" >/dev/null
            """)
    }

    /// A crash: `pg_ctl stop -m immediate` kills every backend without a checkpoint, as a power cut
    /// or an OOM kill would; the next start replays the WAL.
    public func crash() async throws {
        try await stack(#"stack_as_pg "$PG_BIN/pg_ctl" -D "$DATA" -m immediate -w -t 30 stop >/dev/null"#)
    }

    /// Starts the cluster again on the same port (after ``crash()``).
    public func restart() async throws {
        try await stack(#"stack_pg_start "$DATA" "$PORT" "$LOG""#)
    }

    /// Stops the server and deletes its files.
    public func destroy() async {
        try? await stack(#"stack_pg_stop "$DATA""#)
        try? FileManager.default.removeItem(at: directory)
    }

    public func url(role: String) -> DatabaseURL {
        DatabaseURL("postgres://\(role):\(rolePassword)@127.0.0.1:\(port)/\(database)")!
    }

    public var adminURL: DatabaseURL {
        DatabaseURL("postgres://postgres:\(adminPassword)@127.0.0.1:\(port)/\(database)")!
    }

    /// The server's log (recovery messages and the like).
    public func log() -> String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "" }

    /// Runs `script` in bash after sourcing stack.sh. The postmaster it starts outlives the script,
    /// which is why this waits with ``ChildProcess`` and not Foundation's `Process`.
    private func stack(_ script: String) async throws {
        var environment = ProcessInfo.processInfo.environment
        environment["REPO"] = repository.path
        environment["STACK_NAME"] = "pg-fault"
        environment["DATA"] = dataDirectory
        environment["LOG"] = logFile
        environment["PORT"] = String(port)
        environment["ADMIN_PASSWORD"] = adminPassword
        environment["ROLE_PASSWORD"] = rolePassword
        environment["DATABASE"] = database
        environment["BIN"] = binDirectory.path
        let (ended, output) = try await ChildProcess.run(
            "/bin/bash", ["-c", "set -euo pipefail; source \"$REPO/scripts/lib/stack.sh\"; stack_use_postgres\n" + script],
            environment: environment, timeout: .seconds(120))
        guard ended == .exited(0) else {
            throw Failure(description: "stack.sh \(ended): \(String(decoding: output, as: UTF8.self))\n\(log().suffix(2000))")
        }
    }
}
