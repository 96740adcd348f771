import Foundation
import Logging
import Testing
import TestSupport
@testable import Migrations
@testable import Platform

/// Serialized: roles are cluster-wide, and two migrators refreshing the same role at once collide.
@Suite(.serialized, .timeLimit(.minutes(5))) struct MigratorTests {
    let logger = Logger(label: "test.migrate")

    func roles(_ stack: TestStack) throws -> [ServiceRole] {
        try ["chat", "ingest", "billing"].map {
            try ServiceRole(schema: $0, name: "contexo_\($0)", password: stack.rolePassword)
        }
    }

    func repositoryMigrations(_ stack: TestStack) throws -> [String: [MigrationFile]] {
        try MigrationFile.discover(in: stack.repository.appendingPathComponent("Services"))
    }

    @Test func discoversEveryServiceWithMigrationsInOrder() throws {
        let stack = try TestStack.current()
        let found = try repositoryMigrations(stack)
        #expect(Set(found.keys) == ["chat", "ingest", "billing"])
        for files in found.values {
            #expect(files.map(\.version) == files.map(\.version).sorted())
        }
    }

    @Test func appliesOnceAndIsIdempotent() async throws {
        try await withTestDatabase(empty: true) { database in
            let stack = database.stack
            let migrations = try repositoryMigrations(stack)
            let migrator = Migrator(admin: database.adminURL, roles: try roles(stack), migrations: migrations, ticketKeys: [TestStack.ticketKey], logger: logger)
            let first = try await migrator.run()
            #expect(first.applied.count == migrations.values.map(\.count).reduce(0, +))
            #expect(first.alreadyApplied == 0)
            let second = try await migrator.run()
            #expect(second.applied.isEmpty)
            #expect(second.alreadyApplied == first.applied.count)
        }
    }

    @Test func refusesAMigrationThatChangedAfterItWasApplied() async throws {
        try await withTestDatabase(empty: true) { database in
            let stack = database.stack
            var migrations = try repositoryMigrations(stack)
            _ = try await Migrator(admin: database.adminURL, roles: try roles(stack), migrations: migrations, ticketKeys: [TestStack.ticketKey], logger: logger).run()
            let original = try #require(migrations["chat"]?.first)
            migrations["chat"]![0] = MigrationFile(service: "chat", version: original.version, sql: original.sql + "\n-- edited\n")
            let edited = Migrator(admin: database.adminURL, roles: try roles(stack), migrations: migrations, ticketKeys: [TestStack.ticketKey], logger: logger)
            await #expect(throws: MigrationError.changedAfterApply(
                service: "chat", version: original.version, recorded: original.checksum,
                current: migrations["chat"]![0].checksum)) { try await edited.run() }
        }
    }

    @Test func statusSaysWhatIsAppliedPendingOrChangedAndChangesNothing() async throws {
        try await withTestDatabase(empty: true) { database in
            let stack = database.stack
            var migrations = try repositoryMigrations(stack)
            let total = migrations.values.map(\.count).reduce(0, +)
            let fresh = try await Migrator(admin: database.adminURL, roles: [], migrations: migrations, logger: logger).status()
            #expect(fresh.count == total && fresh.allSatisfy { $0.state == .pending }, "a fresh database: everything pending")
            #expect(try await Migrator(admin: database.adminURL, roles: [], migrations: migrations, logger: logger).status() == fresh,
                    "asking changed nothing")
            _ = try await Migrator(admin: database.adminURL, roles: try roles(stack), migrations: migrations, ticketKeys: [TestStack.ticketKey], logger: logger).run()
            migrations["chat"]!.append(MigrationFile(service: "chat", version: "9999_next", sql: "SELECT 1;"))
            let original = try #require(migrations["ingest"]?.first)
            migrations["ingest"]![0] = MigrationFile(service: "ingest", version: original.version, sql: original.sql + "\n-- edited\n")
            let states = try await Migrator(admin: database.adminURL, roles: [], migrations: migrations, logger: logger).status()
            #expect(states.filter { $0.state == .pending }.map(\.description) == ["chat/9999_next pending"])
            #expect(states.filter { $0.state == .changed }.map(\.description) == ["ingest/\(original.version) changed"])
            #expect(states.filter { $0.state == .applied }.count == total - 1)
        }
    }

    @Test func aFailingMigrationLeavesNothingBehind() async throws {
        try await withTestDatabase(empty: true) { database in
            let stack = database.stack
            var migrations = try repositoryMigrations(stack)
            migrations["chat"]!.append(MigrationFile(
                service: "chat", version: "9999_broken",
                sql: "CREATE TABLE chat.half_done (id int); SELECT no_such_function();"))
            let migrator = Migrator(admin: database.adminURL, roles: try roles(stack), migrations: migrations, ticketKeys: [TestStack.ticketKey], logger: logger)
            await #expect(throws: MigrationError.self) { try await migrator.run() }
            let leftovers = try await database.withConnection(database.adminURL) { connection in
                try await connection.query(
                    "SELECT count(*)::int FROM pg_class WHERE relname = 'half_done'", logger: logger
                ).collect().first?.decode(Int.self)
            }
            #expect(leftovers == 0)
        }
    }

    @Test func refusesBadFileNamesAndMissingRoles() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        let folder = root.appendingPathComponent("Chat/Migrations")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        try "SELECT 1;".write(to: folder.appendingPathComponent("first.sql"), atomically: true, encoding: .utf8)
        #expect(throws: MigrationError.badName(service: "chat", file: "first.sql")) {
            try MigrationFile.discover(in: root)
        }
        let stack = try TestStack.current()
        let migrator = Migrator(
            admin: stack.adminURL(database: "postgres"), roles: [],
            migrations: ["chat": [MigrationFile(service: "chat", version: "0001_x", sql: "SELECT 1;")]], logger: logger)
        await #expect(throws: MigrationError.missingRole(service: "chat", variable: "CONTEXO_CHAT_DATABASE_URL")) {
            try await migrator.run()
        }
        #expect(throws: MigrationError.invalidRoleName("Robert'); DROP")) {
            try ServiceRole(schema: "chat", name: "Robert'); DROP", password: "x")
        }
    }
}
