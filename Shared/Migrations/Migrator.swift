import Foundation
import Logging
import NIOPosix
import Platform
import PostgresNIO

/// Applies every service's SQL migrations in order with the owner's credentials, records each
/// one with its checksum, and is idempotent: a second run applies nothing. Concurrent migrators
/// are serialised by an advisory lock. Services never hold these credentials.
public struct Migrator: Sendable {
    public let admin: DatabaseURL
    public let roles: [ServiceRole]
    public let migrations: [String: [MigrationFile]]
    /// The keys tenant tickets are signed with (`CONTEXO_TENANT_TICKET_KEYS`), the signing key first.
    public let ticketKeys: [TenantTicketKey]
    let logger: Logger

    public init(admin: DatabaseURL, roles: [ServiceRole], migrations: [String: [MigrationFile]], ticketKeys: [TenantTicketKey] = [],
                logger: Logger) {
        self.admin = admin
        self.roles = roles
        self.ticketKeys = ticketKeys
        self.migrations = migrations
        self.logger = logger
    }

    /// What one run did.
    public struct Report: Sendable, Equatable {
        public var applied: [String] = []
        public var alreadyApplied = 0
    }

    public func run() async throws -> Report {
        for service in migrations.keys where !roles.contains(where: { $0.schema == service }) {
            throw MigrationError.missingRole(service: service, variable: "CONTEXO_\(service.uppercased())_DATABASE_URL")
        }
        guard !ticketKeys.isEmpty else { throw MigrationError.noTicketKeys }
        let connection = try await PostgresConnection.connect(
            configuration: try admin.connectionConfiguration(), id: 1, logger: logger)
        do {
            let report = try await migrate(on: connection)
            try await connection.close()
            return report
        } catch let error as MigrationError {
            try? await connection.close()
            throw error
        } catch {
            try? await connection.close()
            throw MigrationError.database(Self.message(error))
        }
    }

    private func migrate(on connection: PostgresConnection) async throws -> Report {
        try await connection.query("SELECT pg_advisory_lock(hashtext('contexo.migrations'))", logger: logger)
        try await SQLScript.run("""
            CREATE SCHEMA IF NOT EXISTS contexo_migrations;
            REVOKE ALL ON SCHEMA contexo_migrations FROM PUBLIC;
            CREATE TABLE IF NOT EXISTS contexo_migrations.applied (
              service text NOT NULL,
              version text NOT NULL,
              checksum text NOT NULL,
              applied_at timestamptz NOT NULL DEFAULT now(),
              PRIMARY KEY (service, version)
            );
            """, on: connection, logger: logger)
        var report = Report()
        for role in roles.sorted(by: { $0.schema < $1.schema }) {
            try await SQLScript.run(role.provisioningSQL, on: connection, logger: logger)
        }
        // Before the services' migrations: their policies call contexo_tickets.current_tenant().
        try await SQLScript.run(TenantTicketSchema.sql(keys: ticketKeys, roles: roles), on: connection, logger: logger)
        try await SQLScript.run(AuditTrailSchema.sql, on: connection, logger: logger)
        var recorded: [String: String] = [:]
        let rows = try await connection.query("SELECT service, version, checksum FROM contexo_migrations.applied", logger: logger)
        for try await (service, version, checksum) in rows.decode((String, String, String).self) {
            recorded["\(service)/\(version)"] = checksum
        }
        for service in migrations.keys.sorted() {
            for file in migrations[service] ?? [] {
                if let checksum = recorded["\(service)/\(file.version)"] {
                    guard checksum == file.checksum else {
                        throw MigrationError.changedAfterApply(
                            service: service, version: file.version, recorded: checksum, current: file.checksum)
                    }
                    report.alreadyApplied += 1
                    continue
                }
                try await apply(file, on: connection)
                report.applied.append("\(service)/\(file.version)")
                logger.info("applied migration", metadata: ["migration": "\(service)/\(file.version)"])
            }
        }
        for role in roles {
            try await SQLScript.run(role.grantSQL, on: connection, logger: logger)
        }
        try await connection.query("SELECT pg_advisory_unlock(hashtext('contexo.migrations'))", logger: logger)
        return report
    }

    /// The server's own message for a database error (PSQLError hides it from `description`).
    static func message(_ error: any Error) -> String {
        guard let psql = error as? PSQLError else { return "\(error)" }
        if let message = psql.serverInfo?[.message] {
            return message + (psql.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? "")
        }
        return String(reflecting: psql)
    }

    private func apply(_ file: MigrationFile, on connection: PostgresConnection) async throws {
        do {
            try await connection.query("BEGIN", logger: logger)
            try await SQLScript.run("SET LOCAL search_path TO \(file.service), public", on: connection, logger: logger)
            try await SQLScript.run(file.sql, on: connection, logger: logger)
            try await connection.query(
                "INSERT INTO contexo_migrations.applied (service, version, checksum) VALUES (\(file.service), \(file.version), \(file.checksum))",
                logger: logger)
            try await connection.query("COMMIT", logger: logger)
        } catch {
            _ = try? await connection.query("ROLLBACK", logger: logger)
            throw MigrationError.failed(service: file.service, version: file.version, message: Self.message(error))
        }
    }
}
