@testable import Billing
@testable import Chat
import Contract
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import Ingest
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Platform
import PostgresNIO
import Testing
import TestSupport
@testable import Gateway

/// Issue 15, export (GDPR art. 15/20): each service streams every row it holds about the customer
/// and nothing of anyone else's, without secrets; the gateway joins the three streams into one
/// JSON Lines file behind an export id only that customer can use; a table with an `owner_id`
/// that no export reads fails the catalog test.
@Suite(.timeLimit(.minutes(5))) struct AccountExportTests {
    static var exports: [AccountExport] { [Billing.AccountData.export, ChatAccountData.export, IngestAccountData.export] }

    @Test func everyTableWithAnOwnerIsExported() async throws {
        try await withTestDatabase { database in
            let catalog = Set(try await database.ownerRows(UUID()).keys)
            let exported = Self.exports.flatMap { $0.tables.map(\.name) }
            #expect(Set(exported) == catalog, "missing: \(catalog.subtracting(exported).sorted()); unknown: \(Set(exported).subtracting(catalog).sorted())")
            #expect(exported.count == Set(exported).count, "a table is exported twice")
        }
    }

    /// One service's export for `owner`, as received.
    static func body(_ client: some TestClientProtocol, service: ServiceName, owner: UUID) async throws -> String {
        try await client.execute(uri: "/internal/account/export", method: .get,
                                            headers: try await gatewayHeaders(for: service, customer: owner)) { response in
            #expect(response.status == .ok && response.headers[.contentType] == "application/x-ndjson")
            return String(buffer: response.body)
        }
    }

    @Test func eachServiceExportsItsRowsOfTheCustomerOnlyAndNoSecrets() async throws {
        try await BillingHarness.with { harness in
            let database = harness.database
            let owner = UUID(), other = UUID()
            try await AccountErasureTests.seed(database, owners: [owner, other])
            try await database.withConnection(database.adminURL) { connection in
                for who in [owner, other] {
                    try await connection.query("""
                        INSERT INTO ingest.chunks (owner_id, widget_id, document_id, ordinal, content, char_start, char_end, tokens, embedding, embedder)
                        SELECT owner_id, widget_id, id, 0, 'Returns are free within 30 days.', 0, 32, 8,
                               array_fill(0.1::real, ARRAY[768])::halfvec(768), 'contexo-hashing-768-v1'
                        FROM ingest.documents WHERE owner_id = \(who)
                        """, logger: Logger(label: "test"))
                }
            }
            let bodies = NIOLockedValueBox("")
            try await harness.run { client in
                try await AccountDeletionTests.subscribe(harness, client, customer: owner, subscription: 3_000_001)
                try await AccountDeletionTests.subscribe(harness, client, customer: other, subscription: 3_000_002)
                let part = try await Self.body(client, service: .billing, owner: owner)
                bodies.withLockedValue { $0 += part }
            }
            try await ChatHarness.chat(database, ingestPort: 9).test(.router) { client in
                let part = try await Self.body(client, service: .chat, owner: owner)
                bodies.withLockedValue { $0 += part }
            }
            try await IngestHarness.app(database).test(.router) { client in
                let part = try await Self.body(client, service: .ingest, owner: owner)
                bodies.withLockedValue { $0 += part }
            }
            let lines = try bodies.withLockedValue { $0 }.split(separator: "\n").map {
                try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
            }
            let tables = Set(lines.compactMap { $0["table"] as? String })
            for expected in ["billing.subscriptions", "billing.provider_objects", "billing.webhook_receipts", "billing.checkout_nonces",
                             "chat.widgets", "chat.widget_directory", "chat.visitor_sessions", "chat.messages", "chat.message_usage",
                             "ingest.documents", "ingest.document_sources", "ingest.chunks", "ingest.widgets"] {
                #expect(tables.contains(expected), "\(expected) has rows and is exported")
            }
            let rows = lines.compactMap { $0["row"] as? [String: Any] }
            #expect(rows.count == lines.count)
            let owners = Set(rows.compactMap { $0["owner_id"] as? String })
            #expect(owners == [owner.uuidString.lowercased()], "only the customer's rows: \(owners)")
            let text = lines.map { String(decoding: try! JSONSerialization.data(withJSONObject: $0), as: UTF8.self) }.joined()
            #expect(!text.contains(other.uuidString.lowercased()))
            for secret in ["ip_hash", "nonce_hash", "body_sha256", "embedding", "\"fts\""] {
                #expect(!text.contains(secret), "\(secret) is not exported")
            }
            let chunk = rows.first { $0["content"] as? String == "Returns are free within 30 days." }
            #expect(chunk != nil, "the documents' extracted text is in the export")
            #expect(rows.contains { $0["body_base64"] as? String == "aGk=" }, "and their source bytes")
            #expect(rows.contains { $0["content"] as? String == "hi" && $0["role"] as? String == "visitor" }, "and the conversations")
        }
    }

    /// Billing, Chat and Ingest in one fake, each answering its part of an export.
    static func upstream(failing: ServiceName? = nil) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/internal/account/export") { request, _ -> Response in
            let token = request.headers[HTTPField.Name(InternalTokenVerifier.header)!] ?? ""
            let audience = try JSONSerialization.jsonObject(with: Data(base64URL: token.split(separator: ".")[1])!) as? [String: Any]
            let service = audience?["aud"] as? String ?? "?"
            if service == failing?.rawValue { return Response(status: .serviceUnavailable) }
            let customer = audience?["sub"] as? String ?? "?"
            let body = (1...3).map { #"{"service":"\#(service)","table":"\#(service).t","row":{"owner_id":"\#(customer)","n":\#($0)}}"# }
                .joined(separator: "\n") + "\n"
            return Response(status: .ok, headers: [.contentType: "application/x-ndjson"], body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        return router
    }

    @Test func theGatewayHandsTheCustomerOneArchiveOfEveryService() async throws {
        let customer = UUID(), other = UUID()
        let token = try await GatewayAccountTests.token(customer: customer, email: "jane@example.com")
        let othersToken = try await GatewayAccountTests.token(customer: other)
        try await withLiveServer(Self.upstream()) { port in
            try await GatewayTests().gateway(upstreamPort: port).test(.router) { client in
                let started = try await client.execute(uri: "/v1/account/export", method: .post,
                                                       headers: [.authorization: "Bearer \(token)"]) { response in
                    #expect(response.status == .accepted)
                    return (try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any] ?? [:],
                            response.headers[.location])
                }
                let id = try #require(started.0["id"] as? String)
                #expect(started.1 == "/v1/account/exports/\(id)" && started.0["status"] as? String == "ready")
                let (status, polled) = try await GatewayAccountTests.get(client, "/v1/account/exports/\(id)", token: token)
                #expect(status == .ok && polled["download_url"] as? String == "/v1/account/exports/\(id)/archive")

                let archive = try await client.execute(uri: "/v1/account/exports/\(id)/archive", method: .get,
                                                       headers: [.authorization: "Bearer \(token)"]) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentDisposition]?.hasPrefix("attachment; filename=\"contexo-export-") == true)
                    return String(buffer: response.body)
                }
                let lines = try archive.split(separator: "\n").map {
                    try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
                }
                #expect(lines.count == 11)
                #expect(lines.first?["record"] as? String == "export" && lines.first?["email"] as? String == "jane@example.com")
                #expect(lines.first?["customer_id"] as? String == customer.uuidString.lowercased())
                #expect(lines.dropFirst().dropLast().map { $0["service"] as? String ?? "" } == Array(repeating: ["billing", "chat", "ingest"], count: 1)
                    .flatMap { $0.flatMap { Array(repeating: $0, count: 3) } })
                let end = try #require(lines.last)
                #expect(end["record"] as? String == "end" && end["complete"] as? Bool == true)
                #expect(end["rows"] as? [String: Int] == ["billing": 3, "chat": 3, "ingest": 3])

                // The id is the customer's alone, and cannot be forged or kept forever.
                #expect(try await GatewayAccountTests.get(client, "/v1/account/exports/\(id)/archive", token: othersToken).0 == .notFound)
                let forged = id.dropLast() + (id.hasSuffix("0") ? "1" : "0")
                #expect(try await GatewayAccountTests.get(client, "/v1/account/exports/\(forged)", token: token).0 == .notFound)
                let routes = AccountExportRoutes(httpClient: .shared, issuer: await InternalTokenIssuer(secret: TestStack.internalSecret, ticketKey: TestStack.ticketKey),
                                                 upstreams: .init(chat: URL(string: "http://x")!, ingest: URL(string: "http://x")!,
                                                                  billing: URL(string: "http://x")!),
                                                 secret: TestStack.internalSecret)
                let expired = routes.mint(customer: customer, expires: Date().addingTimeInterval(-1))
                #expect(try await GatewayAccountTests.get(client, "/v1/account/exports/\(expired)", token: token).0 == .gone)
            }
        }
        // One service down: a 503 before a byte is sent, never a silently partial archive.
        try await withLiveServer(Self.upstream(failing: .ingest)) { port in
            try await GatewayTests().gateway(upstreamPort: port).test(.router) { client in
                let routes = AccountExportRoutes(httpClient: .shared, issuer: await InternalTokenIssuer(secret: TestStack.internalSecret, ticketKey: TestStack.ticketKey),
                                                 upstreams: .init(chat: URL(string: "http://x")!, ingest: URL(string: "http://x")!,
                                                                  billing: URL(string: "http://x")!),
                                                 secret: TestStack.internalSecret)
                let id = routes.mint(customer: customer, expires: Date().addingTimeInterval(600))
                let (status, problem) = try await GatewayAccountTests.get(client, "/v1/account/exports/\(id)/archive", token: token)
                #expect(status == .serviceUnavailable && (problem["detail"] as? String)?.contains("ingest") == true)
            }
        }
    }
}
