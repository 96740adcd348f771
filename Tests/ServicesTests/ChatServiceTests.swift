import Chat
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Platform
import PostgresNIO
import Testing
import TestSupport

@Suite(.timeLimit(.minutes(5))) struct ChatServiceTests {
    @Test func widgetsAreListedOnlyForTheVerifiedCustomer() async throws {
        try await withTestDatabase { database in
            let alice = UUID(), bob = UUID()
            try await database.withConnection(database.adminURL) { connection in
                try await connection.query(
                    "INSERT INTO chat.widgets (owner_id, name, allowed_domains) VALUES (\(alice), 'Docs', '{docs.alice.test}'), (\(bob), 'Bob', '{}')",
                    logger: Logger(label: "test"))
            }
            let configuration = ChatConfiguration(
                service: serviceConfiguration(database.stack, for: .chat),
                database: DatabaseConfiguration(url: database.roleURL("contexo_chat"), maximumConnections: 6))
            let app = try await Chat.buildApplication(configuration: configuration, logger: Logger(label: "test.chat"))
            try await app.test(.router) { client in
                try await client.execute(uri: "/v1/widgets", method: .get) { response in
                    #expect(response.status == .unauthorized)
                }
                let anonymous = try await gatewayHeaders(for: .chat, customer: nil)
                try await client.execute(uri: "/v1/widgets", method: .get, headers: anonymous) { response in
                    #expect(response.status == .unauthorized)
                }
                let headers = try await gatewayHeaders(for: .chat, customer: alice)
                try await client.execute(uri: "/v1/widgets", method: .get, headers: headers) { response in
                    #expect(response.status == .ok)
                    let list = try JSONDecoder.iso8601.decode(WidgetList.self, from: response.body)
                    #expect(list.widgets.map(\.name) == ["Docs"])
                    #expect(list.widgets.first?.allowedDomains == ["docs.alice.test"])
                }
                try await client.execute(uri: "/readyz", method: .get) { response in
                    #expect(response.status == .ok)
                }
            }
        }
    }

    @Test func notReadyWhenRedisIsUnreachable() async throws {
        try await withTestDatabase { database in
            let deadRedis = RedisEndpoint(host: "127.0.0.1", port: freePort())
            let configuration = ChatConfiguration(
                service: serviceConfiguration(database.stack, for: .chat, redis: deadRedis),
                database: DatabaseConfiguration(url: database.roleURL("contexo_chat"), maximumConnections: 6))
            let app = try await Chat.buildApplication(configuration: configuration, logger: Logger(label: "test.chat"))
            try await app.test(.router) { client in
                try await client.execute(uri: "/readyz", method: .get) { response in
                    #expect(response.status == .serviceUnavailable)
                    let problem = try JSONDecoder().decode(Problem.self, from: response.body)
                    #expect(problem.extensions?["down"]?.contains("redis") == true)
                }
            }
        }
    }
}

extension JSONDecoder {
    static var iso8601: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
