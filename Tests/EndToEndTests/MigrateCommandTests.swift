import Foundation
import Platform
import Testing
import TestSupport

/// `contexo-migrate` as operators run it: `--help`, `status` (exit 3 while anything is pending),
/// `apply --dry-run` (lists, changes nothing), then `apply`.
@Suite(.timeLimit(.minutes(5))) struct MigrateCommandTests {
    static func run(_ arguments: [String], database: TestDatabase, ticketKeys: Bool = true) async throws -> (Int32, String) {
        let stack = database.stack
        let binary = try #require(stack.binDirectory).appendingPathComponent("contexo-migrate").path
        let admin = database.adminURL
        var environment = [
            "CONTEXO_ADMIN_DATABASE_URL": "postgres://\(admin.username):\(admin.password ?? "")@\(admin.host):\(admin.port)/\(admin.database)",
            "CONTEXO_MIGRATIONS_DIR": stack.repository.appendingPathComponent("Services").path,
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
        ]
        if ticketKeys { environment["CONTEXO_TENANT_TICKET_KEYS"] = TenantTicketKey.text([TestStack.ticketKey]) }
        for service in ["chat", "ingest", "billing"] {
            environment["CONTEXO_\(service.uppercased())_DATABASE_URL"] =
                "postgres://contexo_\(service):\(stack.rolePassword)@\(admin.host):\(admin.port)/\(admin.database)"
        }
        let (ended, output) = try await ChildProcess.run(binary, arguments, environment: environment, timeout: .seconds(120))
        return (ended.status, String(decoding: output, as: UTF8.self))
    }

    @Test func statusDryRunAndApply() async throws {
        try await withTestDatabase(empty: true) { database in
            let help = try await Self.run(["--help"], database: database)
            #expect(help.0 == 0 && help.1.contains("status") && help.1.contains("apply"), "\(help.1)")

            let pending = try await Self.run(["status"], database: database)
            #expect(pending.0 == 3, "pending migrations exit 3: \(pending.1)")
            #expect(pending.1.contains("chat/0001_baseline pending"))
            let dryRun = try await Self.run(["apply", "--dry-run"], database: database)
            #expect(dryRun.0 == 0 && dryRun.1.contains("to apply"), "\(dryRun.1)")
            let still = try await Self.run(["status"], database: database)
            #expect(still.0 == 3, "the dry run changed nothing")

            let keyless = try await Self.run(["apply"], database: database, ticketKeys: false)
            #expect(keyless.0 != 0 && keyless.1.contains("CONTEXO_TENANT_TICKET_KEYS"), "\(keyless.1)")
            let applied = try await Self.run(["apply"], database: database)
            #expect(applied.0 == 0, "\(applied.1)")
            let done = try await Self.run(["status"], database: database)
            #expect(done.0 == 0 && !done.1.contains("pending") && done.1.contains("billing/0008_verified_tenant applied"), "\(done.1)")
            let nothing = try await Self.run([], database: database)
            #expect(nothing.0 == 0, "apply is the default, and a second run applies nothing: \(nothing.1)")
        }
    }
}
