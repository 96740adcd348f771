import Foundation
import Logging
import PostgresNIO

/// Where one migration file stands in a database: applied (with the same checksum), pending, or
/// changed after it was applied (which `Migrator.run()` refuses).
public struct MigrationState: Sendable, Equatable, CustomStringConvertible {
    public enum State: String, Sendable {
        case applied, pending, changed
    }

    public let service: String
    public let version: String
    public let state: State

    public var description: String { "\(service)/\(version) \(state.rawValue)" }
}

extension Migrator {
    /// Every migration file's state, read without changing anything (no lock, no role, no DDL).
    public func status() async throws -> [MigrationState] {
        let connection = try await PostgresConnection.connect(
            configuration: try admin.connectionConfiguration(), id: 1, logger: logger)
        do {
            var recorded: [String: String] = [:]
            let exists = try await connection.query("SELECT to_regclass('contexo_migrations.applied') IS NOT NULL", logger: logger)
                .collect().first?.decode(Bool.self) ?? false
            if exists {
                let rows = try await connection.query("SELECT service, version, checksum FROM contexo_migrations.applied", logger: logger)
                for try await (service, version, checksum) in rows.decode((String, String, String).self) {
                    recorded["\(service)/\(version)"] = checksum
                }
            }
            try await connection.close()
            return migrations.keys.sorted().flatMap { service in
                (migrations[service] ?? []).map { file in
                    let state: MigrationState.State = switch recorded["\(service)/\(file.version)"] {
                    case nil: .pending
                    case file.checksum: .applied
                    default: .changed
                    }
                    return MigrationState(service: service, version: file.version, state: state)
                }
            }
        } catch {
            try? await connection.close()
            throw MigrationError.database(Self.message(error))
        }
    }
}
