import Foundation
import Logging
import Migrations
import Platform

// contexo-migrate: applies every service's migrations with the owner's credentials.
// Configuration (environment):
//   CONTEXO_ADMIN_DATABASE_URL    owner/admin credentials (never given to a service)
//   CONTEXO_<SERVICE>_DATABASE_URL each service's login role and password (the role is created or refreshed)
//   CONTEXO_MIGRATIONS_DIR        the folder holding <Service>/Migrations/*.sql (default: Services)

if CommandLine.arguments.contains(where: { $0 == "--help" || $0 == "-h" }) {
    print("""
    usage: contexo-migrate
    Applies Services/<Service>/Migrations/*.sql in order, recorded and idempotent.
    Environment: CONTEXO_ADMIN_DATABASE_URL, CONTEXO_<SERVICE>_DATABASE_URL for each service with migrations,
                 CONTEXO_MIGRATIONS_DIR (default: Services).
    """)
    exit(0)
}

LoggingSystem.bootstrap { JSONLogHandler(label: $0, service: "migrate", level: .info) }
let logger = Logger(label: "contexo.migrate")

var reader = ConfigurationReader()
let admin = reader.databaseURL("CONTEXO_ADMIN_DATABASE_URL")
let directory = URL(fileURLWithPath: reader.string("CONTEXO_MIGRATIONS_DIR", default: "Services"))
let discovered: [String: [MigrationFile]]
do {
    discovered = try MigrationFile.discover(in: directory)
} catch {
    FileHandle.standardError.write(Data("contexo-migrate: \(error)\n".utf8))
    exit(78)
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
do {
    try reader.validate(service: "contexo-migrate")
} catch {
    FileHandle.standardError.write(Data((error.description + "\n").utf8))
    exit(78)
}

do {
    let report = try await Migrator(admin: admin!, roles: roles, migrations: discovered, logger: logger).run()
    logger.info("migrations done", metadata: [
        "applied": "\(report.applied.count)", "already_applied": "\(report.alreadyApplied)",
    ])
    exit(0)
} catch {
    FileHandle.standardError.write(Data("contexo-migrate: \(error)\n".utf8))
    exit(1)
}
