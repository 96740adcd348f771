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

/// Widgets through Chat's API: validated allow-lists, the widget quota enforced atomically by a
/// Postgres function under the tenant's advisory lock (S4.1), and every change in the outbox.
@Suite(.timeLimit(.minutes(5))) struct WidgetQuotaTests {
    static func chat(_ database: TestDatabase) async throws -> some ApplicationProtocol {
        try await Chat.buildApplication(configuration: ChatConfiguration(
            service: serviceConfiguration(database.stack, for: .chat),
            database: DatabaseConfiguration(url: database.roleURL("contexo_chat"), maximumConnections: 12)),
            logger: Logger(label: "test.chat"))
    }

    static func create(_ client: some TestClientProtocol, owner: UUID, name: String = "Docs",
                       domains: [String] = ["https://docs.example.com"]) async throws -> (HTTPResponse.Status, String) {
        var headers = try await gatewayHeaders(for: .chat, customer: owner)
        headers[.contentType] = "application/json"
        let body = try JSONSerialization.data(withJSONObject: ["name": name, "allowed_domains": domains])
        return try await client.execute(uri: "/v1/widgets", method: .post, headers: headers, body: ByteBuffer(data: body)) {
            ($0.status, String(buffer: $0.body))
        }
    }

    @Test func allowListsAreValidatedAndNormalised() async throws {
        try await withTestDatabase { database in
            try await Self.chat(database).test(.router) { client in
                let owner = UUID()
                for bad in ["ftp://x.example.com", "https://example.com/path", "http://example.com", "*.com", "https://user@example.com", ""] {
                    let (status, body) = try await Self.create(client, owner: owner, domains: [bad])
                    #expect(status == .unprocessableContent, "\(bad)")
                    #expect(body.contains("allowed_domains[0]"), "\(body)")
                }
                let (status, body) = try await Self.create(client, owner: owner, domains: ["Docs.Example.com", "https://*.example.org:443", "http://localhost:3000"])
                #expect(status == .created, "\(body)")
                #expect(body.contains(#"["https:\/\/docs.example.com","https:\/\/*.example.org","http:\/\/localhost:3000"]"#)
                        || body.contains(#"["https://docs.example.com","https://*.example.org","http://localhost:3000"]"#), "\(body)")
            }
        }
    }

    @Test func concurrentCreationsNeverExceedThePlansWidgetLimit() async throws {
        try await withTestDatabase { database in
            let free = UUID(), paying = UUID()
            try await database.withConnection(database.adminURL) { connection in
                try await connection.query("""
                    INSERT INTO chat.tenant_entitlements (owner_id, plan, status, widgets, messages_per_month, knowledge_bytes, revision)
                    VALUES (\(paying), 'starter', 'active', 3, 2000, 50000000, 1)
                    """, logger: Logger(label: "test"))
            }
            try await Self.chat(database).test(.router) { client in
                for (owner, limit) in [(free, 1), (paying, 3)] {
                    let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                        for index in 0..<20 { group.addTask { try await Self.create(client, owner: owner, name: "W\(index)").0 } }
                        var statuses: [HTTPResponse.Status] = []
                        for try await status in group { statuses.append(status) }
                        return statuses
                    }
                    #expect(statuses.filter { $0 == .created }.count == limit, "\(statuses)")
                    #expect(statuses.filter { $0 == .forbidden }.count == 20 - limit, "\(statuses)")
                }
                let (_, refusal) = try await Self.create(client, owner: free)
                #expect(refusal.contains("quota-exceeded") && refusal.contains("1 widget"))
            }
            let counts = try await database.withConnection(database.adminURL) { connection in
                try await connection.query("""
                    SELECT (SELECT count(*) FROM chat.widgets)::int, (SELECT count(*) FROM chat.widget_directory)::int,
                           (SELECT count(*) FROM chat.outbox WHERE envelope::jsonb ->> 'type' = 'chat.widget.changed')::int
                    """, logger: Logger(label: "test")).collect().first?.decode((Int, Int, Int).self)
            }
            #expect(counts?.0 == 4 && counts?.1 == 4 && counts?.2 == 4, "widgets, directory rows, events: \(String(describing: counts))")
        }
    }

    @Test func updatesAndDeletesAreAnnouncedAndScopedToTheOwner() async throws {
        try await withTestDatabase { database in
            let owner = UUID(), stranger = UUID()
            try await Self.chat(database).test(.router) { client in
                let (_, body) = try await Self.create(client, owner: owner)
                let id = try #require((try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?["id"] as? String)
                var headers = try await gatewayHeaders(for: .chat, customer: stranger)
                headers[.contentType] = "application/json"
                try await client.execute(uri: "/v1/widgets/\(id)", method: .patch, headers: headers,
                                         body: ByteBuffer(string: #"{"allowed_domains": ["https://evil.test"]}"#)) { response in
                    #expect(response.status == .notFound, "another customer's widget does not exist for them")
                }
                headers = try await gatewayHeaders(for: .chat, customer: owner)
                headers[.contentType] = "application/json"
                try await client.execute(uri: "/v1/widgets/\(id)", method: .patch, headers: headers,
                                         body: ByteBuffer(string: #"{"allowed_domains": ["https://help.example.com"]}"#)) { response in
                    #expect(response.status == .ok)
                    #expect(String(buffer: response.body).contains("help.example.com"))
                }
                try await client.execute(uri: "/v1/widgets/\(id)", method: .delete, headers: headers) { response in
                    #expect(response.status == .noContent)
                }
            }
            let changes = try await database.withConnection(database.adminURL) { connection in
                try await connection.query(
                    "SELECT envelope::jsonb -> 'payload' ->> 'change' FROM chat.outbox ORDER BY seq", logger: Logger(label: "test")
                ).collect().map { try $0.decode(String.self) }
            }
            #expect(changes == ["created", "updated", "deleted"])
        }
    }
}
