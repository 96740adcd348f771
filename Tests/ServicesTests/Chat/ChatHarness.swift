import Chat
import Contract
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Ingest
import Logging
import NIOCore
import Platform
import PostgresNIO
import Synchronization
import TestSupport

/// Chat under test with a real Ingest behind it (live, on a free port, its jobs running on the
/// test's own Redis database) and one customer's widget with documents ingested.
enum ChatHarness {
    static let visitorIP = "203.0.113.77"
    /// Each widget the harness made, and its owner: the tenant a visitor's ticket names.
    static let owners = Mutex<[UUID: UUID]>([:])
    static let visitors = VisitorConfiguration(tokenSecret: VisitorConfiguration.randomSecret(),
                                               ipHashPepper: VisitorConfiguration.randomSecret())

    static let handbook = """
        # Returns
        ## Refund policy
        Refunds are issued within 14 days of a return request, to the original payment method.
        Opened software cannot be refunded.

        ## Shipping
        Parcels to Norway take 6 working days. Express delivery costs 15 EUR.
        """

    struct Fixture: Sendable {
        var owner: UUID
        var widget: UUID
        var ingestPort: Int
    }

    /// Runs `body` with Ingest live and a tenant whose widget knows `handbook`.
    static func withKnowledge<T: Sendable>(
        _ database: TestDatabase, documents: [String] = [handbook], embeddings: EmbeddingProviderKind = .hashing,
        _ body: @Sendable (Fixture) async throws -> T
    ) async throws -> T {
        let ingest = try await IngestHarness.app(database, embeddings: embeddings)
        return try await ingest.test(.live) { ingestClient in
            let owner = UUID()
            let widget = try await createWidget(database, owner: owner, ingestPort: ingestClient.port!)
            for (index, text) in documents.enumerated() {
                let reply = try await IngestHarness.paste(ingestClient, owner: owner, widget: widget, title: "Handbook \(index + 1)",
                                                          text: text, format: "markdown")
                guard reply.status == .accepted else { throw IngestHarness.Failure(description: "upload: \(reply.body)") }
            }
            try await IngestHarness.settle(database)
            return try await body(Fixture(owner: owner, widget: widget, ingestPort: ingestClient.port!))
        }
    }

    static func configuration(_ database: TestDatabase, ingestPort: Int, freeMessages: Int = 100) -> ChatConfiguration {
        var service = serviceConfiguration(database.stack, for: .chat)
        // Chat consumes its own stream (webhooks): each test's copy gets its own group, so that no
        // copy takes another test's events.
        service.consumerGroupSuffix = "-" + database.name
        return ChatConfiguration(
            service: service,
            database: DatabaseConfiguration(url: database.roleURL("contexo_chat"), maximumConnections: 12),
            freeWidgetLimit: 3, freeMessageAllowance: freeMessages, visitors: visitors,
            ingestURL: URL(string: "http://127.0.0.1:\(ingestPort)")!)
    }

    static func chat(_ database: TestDatabase, ingestPort: Int, provider: (any AnswerProvider)? = LocalAnswerProvider(pause: .zero),
                     freeMessages: Int = 100,
                     adjust: (inout ChatConfiguration) -> Void = { _ in }) async throws -> some ApplicationProtocol {
        var configuration = configuration(database, ingestPort: ingestPort, freeMessages: freeMessages)
        adjust(&configuration)
        return try await Chat.buildApplication(configuration: configuration, logger: Logger(label: "test.chat"), provider: provider)
    }

    static func createWidget(_ database: TestDatabase, owner: UUID, ingestPort: Int) async throws -> UUID {
        try await chat(database, ingestPort: ingestPort).test(.router) { client in
            var headers = try await gatewayHeaders(for: .chat, customer: owner)
            headers[.contentType] = "application/json"
            let body = #"{"name": "Help", "allowed_domains": ["https://shop.example.com"]}"#
            return try await client.execute(uri: "/v1/widgets", method: .post, headers: headers, body: ByteBuffer(string: body)) { response in
                guard response.status == .created,
                      let id = (try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])?["id"] as? String
                else { throw IngestHarness.Failure(description: "widget: \(response.status) \(String(buffer: response.body))") }
                let widget = UUID(uuidString: id)!
                owners.withLock { $0[widget] = owner }
                return widget
            }
        }
    }

    struct Reply: Sendable {
        var status: HTTPResponse.Status
        var headers: HTTPFields
        var body: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]) ?? [:] }
    }

    /// What the gateway forwards for a visitor of `widget`: no customer, a ticket for the widget's owner.
    static func visitorHeaders(widget: UUID, session: String? = nil, accept: String? = nil) async throws -> HTTPFields {
        var headers = try await gatewayHeaders(for: .chat, customer: nil, tenant: owners.withLock { $0[widget] })
        headers[HTTPField.Name("X-Contexo-Client-IP")!] = visitorIP
        headers[.contentType] = "application/json"
        if let session { headers[VisitorRoutes.sessionHeader] = session }
        if let accept { headers[.accept] = accept }
        return headers
    }

    static func startSession(_ client: some TestClientProtocol, widget: UUID) async throws -> String {
        let reply = try await client.execute(uri: "/widget/v1/widgets/\(widget)/sessions", method: .post,
                                             headers: try await visitorHeaders(widget: widget)) {
            Reply(status: $0.status, headers: $0.headers, body: String(buffer: $0.body))
        }
        guard reply.status == .created, let token = reply.json["token"] as? String else {
            throw IngestHarness.Failure(description: "session: \(reply.status) \(reply.body)")
        }
        return token
    }

    static func ask(_ client: some TestClientProtocol, widget: UUID, session: String, _ message: String,
                    stream: Bool = false) async throws -> Reply {
        let body = try JSONSerialization.data(withJSONObject: ["message": message])
        return try await client.execute(uri: "/widget/v1/widgets/\(widget)/messages", method: .post,
                                        headers: try await visitorHeaders(widget: widget, session: session, accept: stream ? "text/event-stream" : nil),
                                        body: ByteBuffer(data: body)) {
            Reply(status: $0.status, headers: $0.headers, body: String(buffer: $0.body))
        }
    }

    /// Server-sent events as (event, data JSON) pairs.
    static func events(_ body: String) -> [(name: String, data: [String: Any])] {
        body.components(separatedBy: "\n\n").compactMap { block in
            var name = "message", data = ""
            for line in block.split(separator: "\n") {
                if line.hasPrefix("event: ") { name = String(line.dropFirst(7)) }
                if line.hasPrefix("data: ") { data += line.dropFirst(6) }
            }
            guard !data.isEmpty else { return nil }
            return (name, (try? JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any]) ?? [:])
        }
    }

    static func customer(_ client: some TestClientProtocol, _ uri: String, owner: UUID) async throws -> Reply {
        try await client.execute(uri: uri, method: .get, headers: try await gatewayHeaders(for: .chat, customer: owner)) {
            Reply(status: $0.status, headers: $0.headers, body: String(buffer: $0.body))
        }
    }

    static func scalar<T: PostgresDecodable & Sendable>(_ database: TestDatabase, _ sql: String, as type: T.Type) async throws -> T? {
        try await database.withConnection(database.adminURL) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: sql), logger: Logger(label: "test")).collect().first?.decode(T.self)
        }
    }
}
