import Chat
import Contract
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Platform
import Testing
import TestSupport
@testable import Gateway

/// S5.4 with the work it protects: a burst of visitor messages through the real gateway in front of
/// the real Chat. Past the per-IP limit, no message reaches the model and none is stored.
@Suite(.timeLimit(.minutes(5))) struct MessageBurstTests {
    /// An answer provider that counts the questions it was asked.
    struct CountingProvider: AnswerProvider {
        let asked = NIOLockedValueBox(0)
        var name: String { "counting" }
        func answer(_ prompt: AnswerPrompt) -> AsyncThrowingStream<AnswerEvent, any Error> {
            asked.withLockedValue { $0 += 1 }
            return AsyncThrowingStream { continuation in
                continuation.yield(.text("Returns are free within 30 days [1]."))
                continuation.yield(.finished(reason: "stop"))
                continuation.finish()
            }
        }
    }

    @Test func aMessageBurstPastThePerIPLimitReachesNeitherTheModelNorTheDatabase() async throws {
        try await withTestDatabase { database in
            let provider = CountingProvider()
            try await ChatHarness.withKnowledge(database) { fixture in
                try await ChatHarness.chat(database, ingestPort: fixture.ingestPort, provider: provider).test(.live) { chatClient in
                    let gateway = try await GatewayTests().gateway(upstreamPort: chatClient.port!) {
                        $0.trustedProxies = 1
                        $0.internalLookupTimeout = .seconds(20)
                        $0.widgetRateLimitPerIP = RateLimit(limit: 4, period: .seconds(600))  // the session, then 3 messages
                    }
                    try await gateway.test(.router) { client in
                        let ip = "198.51.100.\(Int.random(in: 1...254))-\(UUID().uuidString.prefix(6))"
                        var headers: HTTPFields = [.origin: "https://shop.example.com", HTTPField.Name("X-Forwarded-For")!: ip,
                                                   .contentType: "application/json"]
                        let session = try await client.execute(uri: "/widget/v1/widgets/\(fixture.widget)/sessions", method: .post,
                                                               headers: headers) { response -> String in
                            #expect(response.status == .created)
                            let json = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
                            return json?["token"] as? String ?? ""
                        }
                        headers[VisitorRoutes.sessionHeader] = session
                        let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                            for index in 0..<20 {
                                group.addTask { [headers] in
                                    try await client.execute(uri: "/widget/v1/widgets/\(fixture.widget)/messages", method: .post,
                                                             headers: headers, body: ByteBuffer(string: #"{"message":"Can I return item \#(index)?"}"#)) {
                                        $0.status
                                    }
                                }
                            }
                            var all: [HTTPResponse.Status] = []
                            for try await status in group { all.append(status) }
                            return all
                        }
                        #expect(statuses.filter { $0 == .ok }.count == 3, "\(statuses)")
                        #expect(statuses.filter { $0 == .tooManyRequests }.count == 17, "\(statuses)")
                    }
                }
                #expect(provider.asked.withLockedValue { $0 } == 3, "only the allowed messages reached the model")
                let stored = try await ChatHarness.scalar(database, "SELECT count(*)::int FROM chat.messages WHERE role = 'visitor'", as: Int.self)
                #expect(stored == 3, "only the allowed messages were stored or metered")
            }
        }
    }
}
