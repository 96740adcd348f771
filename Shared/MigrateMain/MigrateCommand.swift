import ArgumentParser
import Foundation
import Logging
import Migrations
import Platform

/// `contexo-migrate`: applies every service's migrations with the owner's credentials, or shows
/// where each one stands.
///
/// Configuration (environment): `CONTEXO_ADMIN_DATABASE_URL` (the owner's credentials, never
/// given to a service), `CONTEXO_<SERVICE>_DATABASE_URL` (each service's login role and password;
/// the role is created or refreshed), `CONTEXO_MIGRATIONS_DIR` (the folder holding
/// `<Service>/Migrations/*.sql`, default `Services`).
@main
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "contexo-migrate",
        abstract: "Apply Contexo's SQL migrations (recorded, checksummed, idempotent), or show where they stand.",
        discussion: """
        Environment: CONTEXO_ADMIN_DATABASE_URL; CONTEXO_<SERVICE>_DATABASE_URL for each service with migrations \
        (apply only); CONTEXO_MIGRATIONS_DIR (default: Services).
        Exit status: 0 done (status: nothing pending), 1 failed, 3 (status) migrations pending, 78 bad configuration.
        """,
        subcommands: [Apply.self, Status.self],
        defaultSubcommand: Apply.self)

    /// Applies every pending migration; `--dry-run` only lists them.
    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Apply every pending migration (the default).")

        @Flag(help: "List what would be applied, change nothing.")
        var dryRun = false

        func run() async throws {
            let logger = MigrateCommand.bootstrap()
            var reader = ConfigurationReader()
            let (admin, discovered) = MigrateCommand.sources(&reader)
            if dryRun {
                try MigrateCommand.validate(reader)
                let pending = try await MigrateCommand.states(admin: admin!, migrations: discovered, logger: logger)
                    .filter { $0.state != .applied }
                for state in pending { print(state) }
                print(pending.isEmpty ? "nothing to apply" : "\(pending.count) to apply")
                if pending.contains(where: { $0.state == .changed }) { throw ExitCode(1) }
                return
            }
            var roles: [ServiceRole] = []
            for service in discovered.keys.sorted() {
                let variable = "CONTEXO_\(service.uppercased())_DATABASE_URL"
                guard let url = reader.databaseURL(variable) else { continue }
                guard let password = url.password else {
                    reader.report(variable, "must include the role's password")
                    continue
                }
                do {
                    roles.append(try ServiceRole(schema: service, name: url.username, password: password))
                } catch {
                    reader.report(variable, "\(error)")
                }
            }
            var ticketKeys: [TenantTicketKey] = []
            if let text = reader.value("CONTEXO_TENANT_TICKET_KEYS") {
                do { ticketKeys = try TenantTicketKey.list(text) } catch { reader.report("CONTEXO_TENANT_TICKET_KEYS", "\(error)") }
            } else {
                reader.report("CONTEXO_TENANT_TICKET_KEYS", "is required: the keys tenant tickets are signed with (the gateway's too)")
            }
            try MigrateCommand.validate(reader)
            do {
                let report = try await Migrator(admin: admin!, roles: roles, migrations: discovered, ticketKeys: ticketKeys,
                                                logger: logger).run()
                logger.info("migrations done", metadata: [
                    "applied": "\(report.applied.count)", "already_applied": "\(report.alreadyApplied)",
                ])
            } catch {
                FileHandle.standardError.write(Data("contexo-migrate: \(error)\n".utf8))
                throw ExitCode(1)
            }
        }
    }

    /// Where every migration stands; exits 3 when some are pending.
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show each migration: applied, pending or changed.")

        func run() async throws {
            let logger = MigrateCommand.bootstrap()
            var reader = ConfigurationReader()
            let (admin, discovered) = MigrateCommand.sources(&reader)
            try MigrateCommand.validate(reader)
            let states = try await MigrateCommand.states(admin: admin!, migrations: discovered, logger: logger)
            for state in states { print(state) }
            if states.contains(where: { $0.state == .changed }) { throw ExitCode(1) }
            if states.contains(where: { $0.state == .pending }) { throw ExitCode(3) }
        }
    }

    static func bootstrap() -> Logger {
        LoggingSystem.bootstrap { JSONLogHandler(label: $0, service: "migrate", level: .info) }
        return Logger(label: "contexo.migrate")
    }

    /// The admin URL and the migration files; a folder that cannot be read is a configuration error.
    static func sources(_ reader: inout ConfigurationReader) -> (DatabaseURL?, [String: [MigrationFile]]) {
        let admin = reader.databaseURL("CONTEXO_ADMIN_DATABASE_URL")
        let directory = reader.string("CONTEXO_MIGRATIONS_DIR", default: "Services")
        do {
            return (admin, try MigrationFile.discover(in: URL(fileURLWithPath: directory)))
        } catch {
            reader.report("CONTEXO_MIGRATIONS_DIR", "\(error)")
            return (admin, [:])
        }
    }

    static func validate(_ reader: ConfigurationReader) throws {
        do {
            try reader.validate(service: "contexo-migrate")
        } catch {
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            throw ExitCode(78)
        }
    }

    static func states(admin: DatabaseURL, migrations: [String: [MigrationFile]], logger: Logger) async throws -> [MigrationState] {
        do {
            return try await Migrator(admin: admin, roles: [], migrations: migrations, logger: logger).status()
        } catch {
            FileHandle.standardError.write(Data("contexo-migrate: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
