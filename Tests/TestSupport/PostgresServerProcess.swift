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

    /// Runs `script` in bash after sourcing stack.sh, off the cooperative pool.
    private func stack(_ script: String) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", "set -euo pipefail; source \"$REPO/scripts/lib/stack.sh\"; stack_use_postgres\n" + script]
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
        process.environment = environment
        // A file, not a pipe: a full pipe would block the script before it could exit.
        let outputFile = directory.appendingPathComponent("stack-\(UUID().uuidString.prefix(8)).out")
        _ = FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        let output = try FileHandle(forWritingTo: outputFile)
        defer { try? output.close() }
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let status = await Self.exitStatus(of: process)
        let text = (try? String(contentsOf: outputFile, encoding: .utf8)) ?? ""
        guard status == 0 else { throw Failure(description: "stack.sh exited \(status): \(text)\n\(log().suffix(2000))") }
    }

    /// Waits for the child to exit. Foundation reaps its children from a SIGCHLD handler, but in the
    /// test process that sometimes never happened (the child stayed a zombie and the termination
    /// handler never ran), so this also reaps it with `waitpid` itself; whichever comes first wins.
    private static func exitStatus(of process: Process) async -> Int32 {
        let pid = process.processIdentifier
        while true {
            if !process.isRunning { return process.terminationStatus }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                // WIFEXITED / WEXITSTATUS, which Swift does not import as functions.
                return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }
}
