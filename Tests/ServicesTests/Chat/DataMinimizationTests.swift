import AsyncHTTPClient
import Chat
import Contract
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Platform
import Testing
import TestSupport

/// S8.1: the model receives the widget's prompt, the retrieved context and the visitor's message,
/// and nothing else. Fake OpenAI-compatible and Gemini servers record every request the real
/// clients send.
@Suite(.timeLimit(.minutes(5))) struct DataMinimizationTests {
    static let otherTenantSecret = "Zebra-Falcon-9921 is the vault code"

    static func fakeOpenAI(_ recorder: AnswerProviderTests.Recorder) -> Router<BasicRequestContext> {
        AnswerProviderTests.server("/v1/chat/completions", recorder) {
            AnswerProviderTests.stream(AnswerProviderTests.events([
                #"{"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":"Refunds take "},"finish_reason":null}]}"#,
                #"{"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"14 days [1]."},"finish_reason":"stop"}]}"#,
                "[DONE]",
            ], lineEnding: "\n"))
        }
    }

    static func fakeGemini(_ recorder: AnswerProviderTests.Recorder) -> Router<BasicRequestContext> {
        AnswerProviderTests.server("/v1beta/models/{call}", recorder) {
            AnswerProviderTests.stream(AnswerProviderTests.events([
                #"{"candidates":[{"content":{"role":"model","parts":[{"text":"Refunds take "}]}}]}"#,
                #"{"candidates":[{"content":{"role":"model","parts":[{"text":"14 days [1]."}]},"finishReason":"STOP"}]}"#,
            ]))
        }
    }

    /// What the test reads from one provider's requests.
    struct Wire: Sendable {
        var router: @Sendable (AnswerProviderTests.Recorder) -> Router<BasicRequestContext>
        var provider: @Sendable (Int) -> any AnswerProvider
        /// The system text, the last user text, and how many turns the request carries.
        var system: @Sendable ([String: Any]) -> String?
        var question: @Sendable ([String: Any]) -> String?
        var turns: @Sendable ([String: Any]) -> Int
        /// Turns with history off, and with six prior turns.
        var alone: Int
        var withHistory: Int
    }

    static let wires: [String: Wire] = [
        "openai": Wire(
            router: fakeOpenAI,
            provider: { port in
                OpenAICompatibleAnswerProvider(baseURL: "http://127.0.0.1:\(port)", apiKey: "sk-provider", model: "tiny",
                                               client: .shared, logger: Logger(label: "test"))
            },
            system: { (($0["messages"] as? [[String: Any]])?.first).flatMap { $0["role"] as? String == "system" ? $0["content"] as? String : nil } },
            question: { (($0["messages"] as? [[String: Any]])?.last)?["content"] as? String },
            turns: { ($0["messages"] as? [Any])?.count ?? 0 },
            alone: 2, withHistory: 1 + 6 + 1),
        "gemini": Wire(
            router: fakeGemini,
            provider: { port in
                GeminiAnswerProvider(baseURL: "http://127.0.0.1:\(port)/v1beta", apiKey: "gemini-key", client: .shared,
                                     logger: Logger(label: "test"))
            },
            system: { json in
                ((json["systemInstruction"] as? [String: Any])?["parts"] as? [[String: Any]])?.compactMap { $0["text"] as? String }.joined()
            },
            question: { json in
                (((json["contents"] as? [[String: Any]])?.last)?["parts"] as? [[String: Any]])?.compactMap { $0["text"] as? String }.joined()
            },
            turns: { ($0["contents"] as? [Any])?.count ?? 0 },
            alone: 1, withHistory: 6 + 1),
    ]

    @Test(arguments: ["openai", "gemini"])
    func theProviderSeesOnlyThePromptTheContextAndTheMessage(provider name: String) async throws {
        let wire = try #require(Self.wires[name])
        try await withTestDatabase { database in
            let recorder = AnswerProviderTests.Recorder()
            try await withLiveServer(wire.router(recorder)) { providerPort in
                try await ChatHarness.withKnowledge(database) { fixture in
                    // Another tenant, with a secret, on the same Ingest.
                    let stranger = UUID()
                    var upload = HTTPClientRequest(url: "http://127.0.0.1:\(fixture.ingestPort)/v1/documents")
                    upload.method = .POST
                    for field in try await gatewayHeaders(for: .ingest, customer: stranger) {
                        upload.headers.add(name: field.name.rawName, value: field.value)
                    }
                    upload.headers.add(name: "Content-Type", value: "application/json")
                    upload.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: [
                        "widget_id": fixture.widget.uuidString, "title": "Vault", "text": "Refunds policy note: \(Self.otherTenantSecret)."])))
                    let uploaded = try await HTTPClient.shared.execute(upload, timeout: .seconds(10))
                    #expect(uploaded.status == .accepted)
                    try await IngestHarness.settle(database)
                    let provider = wire.provider(providerPort)
                    try await ChatHarness.chat(database, ingestPort: fixture.ingestPort, provider: provider).test(.router) { client in
                        var headers = try await gatewayHeaders(for: .chat, customer: fixture.owner)
                        headers[.contentType] = "application/json"
                        _ = try await client.execute(uri: "/v1/widgets/\(fixture.widget)", method: .patch, headers: headers,
                                                     body: ByteBuffer(string: #"{"system_prompt": "You are Acme's helpful assistant."}"#)) { $0.status }
                        let session = try await ChatHarness.startSession(client, widget: fixture.widget)
                        let first = try await ChatHarness.ask(client, widget: fixture.widget, session: session, "How long do refunds take?")
                        #expect(first.status == .ok && first.json["text"] as? String == "Refunds take 14 days [1].", "\(first.body)")
                        _ = try await ChatHarness.ask(client, widget: fixture.widget, session: session, "And for opened software refunds?")
                        let calls = recorder.calls
                        #expect(calls.count == 2)
                        let sessionID = try #require(session.split(separator: ".").dropFirst().first.flatMap { part -> String? in
                            var base64 = part.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
                            while base64.count % 4 != 0 { base64 += "=" }
                            return Data(base64Encoded: base64).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }?["s"] as? String
                        })
                        let ipHash = IPHasher(pepper: ChatHarness.visitors.ipHashPepper).hash(ChatHarness.visitorIP)
                        let forbidden = [ChatHarness.visitorIP, ipHash, fixture.owner.uuidString, fixture.owner.uuidString.lowercased(),
                                         session, sessionID, sessionID.lowercased(), stranger.uuidString.lowercased(),
                                         Self.otherTenantSecret, "Zebra-Falcon", TestStack.internalSecret, ChatHarness.visitors.tokenSecret]
                        for (index, call) in calls.enumerated() {
                            let everything = String(decoding: call.body, as: UTF8.self) + call.uri
                                + call.headers.map { "\($0.name): \($0.value)" }.joined(separator: "\n")
                            for secret in forbidden {
                                #expect(!everything.contains(secret), "request \(index) carries \(secret.prefix(24))…")
                            }
                            // Positive control: what it must carry.
                            #expect(wire.system(call.json)?.contains("You are Acme's helpful assistant.") == true, "\(name)")
                            #expect(wire.question(call.json)?.contains("within 14 days") == true, "\(name)")
                        }
                        // History is off by default: the second request does not carry the first exchange.
                        let second = String(decoding: calls[1].body, as: UTF8.self)
                        #expect(!second.contains("How long do refunds take?") && second.contains("opened software"))
                        #expect(wire.turns(calls[1].json) == wire.alone)

                        // Turned on, history is bounded to the last six turns.
                        _ = try await client.execute(uri: "/v1/widgets/\(fixture.widget)", method: .patch, headers: headers,
                                                     body: ByteBuffer(string: #"{"include_history": true}"#)) { $0.status }
                        for index in 0..<4 {
                            _ = try await ChatHarness.ask(client, widget: fixture.widget, session: session, "Refund question \(index)?")
                        }
                        let last = try #require(recorder.calls.last?.json)
                        #expect(wire.turns(last) == wire.withHistory, "six prior turns and the question: \(wire.turns(last))")
                    }
                }
            }
        }
    }
}
