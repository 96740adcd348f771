import Foundation
import Logging
import PostgresNIO
import Testing
import TestSupport
@testable import Platform

/// S1.1, and finding 2 of the security review: a service can enter only a tenant it holds a ticket
/// for, signed outside the service. Each test logs in as a service's own role.
@Suite(.timeLimit(.minutes(5))) struct TenantTicketTests {
    let logger = Logger(label: "test.tickets")

    /// Inserts one widget per owner as the superuser, which RLS does not bind.
    private func widgets(_ database: TestDatabase, _ owners: [UUID]) async throws {
        try await database.withConnection(database.adminURL) { connection in
            for owner in owners {
                try await connection.query("INSERT INTO chat.widgets (owner_id, name) VALUES (\(owner), 'w')", logger: logger)
            }
        }
    }

    /// How many widgets the chat role sees after `setup` ran in the same transaction.
    private func visibleWidgets(_ database: TestDatabase, _ setup: @escaping @Sendable (PostgresConnection) async throws -> Void)
        async throws -> Int {
        try await database.withConnection(database.roleURL("contexo_chat")) { connection in
            try await connection.query("BEGIN", logger: logger)
            try await setup(connection)
            let count = try await connection.query("SELECT count(*)::int FROM chat.widgets", logger: logger)
                .collect().first?.decode(Int.self) ?? -1
            try await connection.query("ROLLBACK", logger: logger)
            return count
        }
    }

    @Test func aTenantSetByHandShowsNothing() async throws {
        try await withTestDatabase { database in
            let alice = UUID()
            try await widgets(database, [alice, alice, UUID()])
            let logger = self.logger
            // What every service could do before: name the tenant itself.
            let byHand = try await visibleWidgets(database) { connection in
                try await connection.query("SELECT set_config('contexo.tenant_id', \(alice.uuidString.lowercased()), true)", logger: logger)
            }
            #expect(byHand == 0)
            // A proof copied from nowhere, or one from another transaction, proves nothing either.
            let guessed = try await visibleWidgets(database) { connection in
                try await connection.query("SELECT set_config('contexo.tenant_id', \(alice.uuidString.lowercased()), true)", logger: logger)
                try await connection.query("SELECT set_config('contexo.tenant_proof', \(String(repeating: "ab", count: 32)), true)", logger: logger)
            }
            #expect(guessed == 0)
            let withTicket = try await visibleWidgets(database) { connection in
                try await connection.enterTenant(TestStack.ticket(for: alice), logger: logger)
            }
            #expect(withTicket == 2)
        }
    }

    @Test func forgedExpiredAndUnknownKeyTicketsAreRefused() async throws {
        try await withTestDatabase { database in
            let alice = UUID(), mallory = UUID()
            let genuine = TestStack.ticket(for: alice).text
            let otherSecret = try TenantTicketKey(id: TestStack.ticketKey.id, secret: Data(repeating: 7, count: 32))
            let unknownID = try TenantTicketKey(id: "retired", secret: TestStack.ticketKey.secret)
            var parts = genuine.split(separator: ".").map(String.init)
            parts[2] = mallory.uuidString.lowercased()
            let retargeted = parts.joined(separator: ".")
            let now = Int64(Date().timeIntervalSince1970)
            let refused: [(String, String)] = [
                ("signed with another secret", otherSecret.mint(for: alice).text),
                ("signed with a key Postgres does not know", unknownID.mint(for: alice).text),
                ("expired", TestStack.ticketKey.mint(for: alice, scope: "r", expires: now - 1).text),
                ("another tenant under the same MAC", retargeted),
                ("an unknown scope", TestStack.ticketKey.mint(for: alice, scope: "admin", expires: now + 60).text),
                ("not a ticket", "t1.x.y"),
            ]
            let entered = try await database.withConnection(database.roleURL("contexo_chat")) { connection in
                var entered: [String: UUID?] = [:]
                for (label, ticket) in refused + [("genuine", genuine)] {
                    entered[label] = try await connection.query("SELECT contexo_tickets.enter(\(ticket))", logger: logger)
                        .collect().first?.decode(UUID?.self) ?? nil
                }
                return entered
            }
            for (label, _) in refused { #expect(entered[label] == .some(nil), "\(label)") }
            #expect(entered["genuine"] == alice)
        }
    }

    @Test func serviceRolesCannotReadTheKeysOrMintTickets() async throws {
        try await withTestDatabase { database in
            for role in ["contexo_chat", "contexo_ingest", "contexo_billing"] {
                for statement in ["SELECT count(*) FROM contexo_tickets.keys",
                                  "SELECT contexo_tickets.mint(gen_random_uuid(), 'r', interval '1 hour')",
                                  "SELECT contexo_tickets.enter_verified(gen_random_uuid())",
                                  "SELECT contexo_tickets.verify('x')"] {
                    let code = try await database.withConnection(database.roleURL(role)) { connection in
                        do {
                            _ = try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger).collect()
                            return "allowed"
                        } catch let error as PSQLError {
                            return error.serverInfo?[.sqlState] ?? "?"
                        }
                    }
                    #expect(code == "42501", "\(role): \(statement) → \(code)")
                }
            }
        }
    }

    @Test func anEventTicketAdmitsOneCommittedTransactionOfEachRole() async throws {
        try await withTestDatabase { database in
            let alice = UUID(), event = UUID()
            try await widgets(database, [alice])
            let ticket = TestStack.ticketKey.mint(for: alice, scope: "e-\(event.uuidString.lowercased())",
                                                  expires: Int64(Date().timeIntervalSince1970) + 3600)
            let logger = self.logger
            @Sendable func use(_ role: String, commit: Bool) async throws -> UUID? {
                try await database.withConnection(database.roleURL(role)) { connection in
                    try await connection.query("BEGIN", logger: logger)
                    let first = try await connection.query("SELECT contexo_tickets.enter(\(ticket.text))", logger: logger)
                        .collect().first?.decode(UUID?.self) ?? nil
                    // The same transaction may enter again (a batch applies several events in one).
                    let again = try await connection.query("SELECT contexo_tickets.enter(\(ticket.text))", logger: logger)
                        .collect().first?.decode(UUID?.self) ?? nil
                    try await connection.query(commit ? "COMMIT" : "ROLLBACK", logger: logger)
                    return first == again ? first : nil
                }
            }
            let rolledBack = try await use("contexo_chat", commit: false)
            #expect(rolledBack == alice)  // a rolled-back use (a failed attempt) does not use it up
            let committed = try await use("contexo_chat", commit: true)
            #expect(committed == alice)
            let replayed = try await use("contexo_chat", commit: true)
            #expect(replayed == nil)  // what an attacker who read the stream afterwards would get
            let otherConsumer = try await use("contexo_ingest", commit: true)
            #expect(otherConsumer == alice)  // each consuming role has its own single use
        }
    }

    @Test func anOutboxRowGetsATicketOnlyForTheTenantThatWroteIt() async throws {
        try await withTestDatabase { database in
            let alice = UUID(), bob = UUID()
            func envelope(_ tenant: UUID, _ event: UUID) -> String {
                #"{"id":"\#(event.uuidString.lowercased())","tenant_id":"\#(tenant.uuidString.lowercased())","type":"chat.widget.changed"}"#
            }
            let ownEvent = UUID(), foreignEvent = UUID()
            let (ticket, refusal): (String?, String) = try await database.withConnection(database.roleURL("contexo_chat")) { connection in
                try await connection.query("BEGIN", logger: logger)
                try await connection.enterTenant(TestStack.ticket(for: alice), logger: logger)
                try await connection.query("""
                    INSERT INTO chat.outbox (event_id, stream, envelope, tenant_ticket) VALUES (\(ownEvent), 's', \(envelope(alice, ownEvent)), 'forged')
                    """, logger: logger)
                let ticket = try await connection.query("SELECT tenant_ticket FROM chat.outbox WHERE event_id = \(ownEvent)", logger: logger)
                    .collect().first?.decode(String?.self) ?? nil
                try await connection.query("COMMIT", logger: logger)
                try await connection.query("BEGIN", logger: logger)
                try await connection.enterTenant(TestStack.ticket(for: alice), logger: logger)
                var code = "allowed"
                do {
                    try await connection.query("""
                        INSERT INTO chat.outbox (event_id, stream, envelope) VALUES (\(foreignEvent), 's', \(envelope(bob, foreignEvent)))
                        """, logger: logger)
                } catch let error as PSQLError {
                    code = error.serverInfo?[.sqlState] ?? "?"
                }
                try await connection.query("ROLLBACK", logger: logger)
                return (ticket, code)
            }
            #expect(refusal == "42501")
            let parsed = try #require(ticket.flatMap(TenantTicket.init))
            #expect(parsed.tenant == alice)
            #expect(parsed.text.contains(".e-\(ownEvent.uuidString.lowercased())."))
            // The consumer (here Ingest's role) enters Alice's tenant with it.
            let entered = try await database.withConnection(database.roleURL("contexo_ingest")) { connection in
                try await connection.query("SELECT contexo_tickets.enter(\(parsed.text))", logger: logger)
                    .collect().first?.decode(UUID?.self) ?? nil
            }
            #expect(entered == alice)
        }
    }
}
