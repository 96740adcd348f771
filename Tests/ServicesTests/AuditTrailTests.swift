import Chat
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Platform
import PostgresNIO
import Testing
import TestSupport

/// S10: what happened to a customer's data, by whom and when, can be told from the audit trail:
/// written in the action's own transaction, readable by that customer only, never changed.
@Suite(.timeLimit(.minutes(5))) struct AuditTrailTests {
    static func trail(_ client: some TestClientProtocol, owner: UUID) async throws -> [[String: Any]] {
        try await client.execute(uri: "/internal/account/audit", method: .get,
                                 headers: try await gatewayHeaders(for: .chat, customer: owner)) { response in
            #expect(response.status == .ok)
            return ((try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])?["entries"]
                as? [[String: Any]]) ?? []
        }
    }

    @Test func widgetChangesAreRecordedWithWhatChangedForTheirCustomerOnly() async throws {
        try await withTestDatabase { database in
            let owner = UUID(), other = UUID()
            try await ChatHarness.chat(database, ingestPort: 9).test(.router) { client in
                var headers = try await gatewayHeaders(for: .chat, customer: owner)
                headers[.contentType] = "application/json"
                let widget = try await client.execute(uri: "/v1/widgets", method: .post, headers: headers,
                                                      body: ByteBuffer(string: #"{"name":"Help","allowed_domains":["https://a.example.com"]}"#)) {
                    (try JSONSerialization.jsonObject(with: Data(buffer: $0.body)) as? [String: Any])?["id"] as? String
                }
                let id = try #require(widget)
                let patched = try await client.execute(uri: "/v1/widgets/\(id)", method: .patch, headers: headers,
                                                       body: ByteBuffer(string: #"{"allowed_domains":["https://b.example.com"],"greeting":"Hi"}"#)) { $0.status }
                #expect(patched == .ok)
                let deleted = try await client.execute(uri: "/v1/widgets/\(id)", method: .delete, headers: headers) { $0.status }
                #expect(deleted == .noContent)

                let entries = try await Self.trail(client, owner: owner)
                #expect(entries.map { $0["action"] as? String } == ["widget.deleted", "widget.updated", "widget.created"])
                #expect(entries.allSatisfy { $0["subject"] as? String == id.lowercased() && $0["actor"] as? String == "customer" && $0["request_id"] as? String == "test" })
                let change = entries[1]["detail"] as? [String: Any]
                #expect((change?["allowed_domains"] as? [String: Any])?["before"] as? [String] == ["https://a.example.com"])
                #expect((change?["allowed_domains"] as? [String: Any])?["after"] as? [String] == ["https://b.example.com"])
                #expect(change?["fields"] as? [String] == ["allowed_domains", "greeting"], "named, never the greeting's text")
                #expect(try await Self.trail(client, owner: other).isEmpty)
            }
            // The service's own role can append only through record_audit, in a tenant it entered,
            // and can neither read, change nor delete entries directly.
            let logger = Logger(label: "test")
            let codes = try await database.withConnection(database.roleURL("contexo_chat")) { connection in
                var codes: [String] = []
                for statement in ["SELECT count(*) FROM chat.audit_trail", "UPDATE chat.audit_trail SET action = 'x.y'",
                                  "DELETE FROM chat.audit_trail",
                                  "SELECT chat.record_audit('customer', 'widget.created', NULL, '{}', NULL)"] {
                    do {
                        _ = try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger).collect()
                        codes.append("allowed")
                    } catch let error as PSQLError {
                        codes.append(error.serverInfo?[.sqlState] ?? "?")
                    }
                }
                return codes
            }
            #expect(codes == ["42501", "42501", "42501", "42501"], "\(codes)")
            let kept = try await database.withConnection(database.adminURL) { connection in
                try await connection.query("SELECT count(*)::int FROM chat.audit_trail WHERE owner_id = \(owner)", logger: logger)
                    .collect().first?.decode(Int.self)
            }
            #expect(kept == 3)
        }
    }
}
