import Crypto
import Foundation

/// One SQL migration of one service: `Services/<Service>/Migrations/NNNN_what_it_does.sql`.
/// Its checksum is recorded when applied; a file that changes afterwards is refused.
public struct MigrationFile: Sendable, Equatable {
    /// The owning service, which is also its schema name (`chat`, `ingest`, `billing`).
    public let service: String
    /// The file name without `.sql`; files apply in this order.
    public let version: String
    public let sql: String
    public let checksum: String

    public init(service: String, version: String, sql: String) {
        self.service = service
        self.version = version
        self.sql = sql
        self.checksum = SHA256.hash(data: Data(sql.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Finds every service folder with a `Migrations` folder under `root` and reads its `.sql` files
    /// in name order. Names must look like `0001_name.sql`.
    public static func discover(in root: URL) throws(MigrationError) -> [String: [MigrationFile]] {
        let manager = FileManager.default
        guard let services = try? manager.contentsOfDirectory(atPath: root.path) else {
            throw .unreadable(root.path)
        }
        var result: [String: [MigrationFile]] = [:]
        for folder in services.sorted() {
            let directory = root.appendingPathComponent(folder).appendingPathComponent("Migrations")
            guard let names = try? manager.contentsOfDirectory(atPath: directory.path) else { continue }
            let service = folder.lowercased()
            var files: [MigrationFile] = []
            for name in names.sorted() where name.hasSuffix(".sql") {
                let version = String(name.dropLast(4))
                guard version.range(of: #"^[0-9]{4}_[a-z0-9_]+$"#, options: .regularExpression) != nil else {
                    throw .badName(service: service, file: name)
                }
                guard let data = manager.contents(atPath: directory.appendingPathComponent(name).path) else {
                    throw .unreadable(directory.appendingPathComponent(name).path)
                }
                files.append(MigrationFile(service: service, version: version, sql: String(decoding: data, as: UTF8.self)))
            }
            if !files.isEmpty { result[service] = files }
        }
        return result
    }
}

/// Why migrating stopped.
public enum MigrationError: Error, Sendable, Equatable, CustomStringConvertible {
    case unreadable(String)
    case badName(service: String, file: String)
    case changedAfterApply(service: String, version: String, recorded: String, current: String)
    case missingRole(service: String, variable: String)
    case invalidRoleName(String)
    case failed(service: String, version: String, message: String)
    case database(String)
    case noTicketKeys

    public var description: String {
        switch self {
        case .unreadable(let path):
            "cannot read \(path)"
        case .badName(let service, let file):
            "\(service)/\(file): migration files are named NNNN_lowercase_words.sql"
        case .changedAfterApply(let service, let version, let recorded, let current):
            "\(service)/\(version).sql changed after it was applied (recorded sha256 \(recorded.prefix(12))…, now \(current.prefix(12))…). Never edit an applied migration: add a new one."
        case .missingRole(let service, let variable):
            "\(service) has migrations but \(variable) is not set: the migrator needs that service's role name and password"
        case .invalidRoleName(let name):
            "\(name) is not a valid role name (lowercase letters, digits, underscore)"
        case .failed(let service, let version, let message):
            "\(service)/\(version).sql failed: \(message)"
        case .database(let message):
            "database: \(message)"
        case .noTicketKeys:
            "no tenant ticket keys: set CONTEXO_TENANT_TICKET_KEYS (the same value the gateway has)"
        }
    }
}
