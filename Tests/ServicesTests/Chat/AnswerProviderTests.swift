import AsyncHTTPClient
import Chat
import Contract
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Testing

/// The streaming answer clients against local fake servers speaking Gemini's and OpenAI's
/// documented wire formats (CRLF framing, thought parts, comments, `[DONE]`, both error shapes),
/// and the server-sent-event parser they share.
@Suite(.timeLimit(.minutes(5))) struct AnswerProviderTests {
    /// One request a fake provider received.
    struct Recorded: Sendable {
        var path: String
        var query: String?
        var uri: String
        var headers: HTTPFields
        var body: Data

        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body) as? [String: Any]) ?? [:] }
    }

    /// What a fake provider received.
    final class Recorder: Sendable {
        let box = NIOLockedValueBox<[Recorded]>([])
        var calls: [Recorded] { box.withLockedValue { $0 } }
    }

    /// What a provider's stream delivered before it ended.
    struct Outcome: Sendable {
        var events: [AnswerEvent] = []
        var error: (any Error)?
        var failure: ProviderError? { error as? ProviderError }
        var errorText: String? { error.map { "\($0)" } }
    }

    static let prompt = AnswerPrompt(
        systemPrompt: "You are Acme's support assistant.",
        passages: [
            KnowledgePassage(chunkID: 1, documentID: UUID(), documentTitle: "Refund policy", sourceURL: nil,
                             heading: "Timing", page: 2, characterStart: 0, characterEnd: 48,
                             text: "Refunds are issued within 14 days of a request.", score: 0.03,
                             vectorRank: 1, textRank: 1, similarity: 0.82),
        ],
        question: "How long do refunds take?",
        history: [PriorTurn(role: .visitor, text: "Hi"), PriorTurn(role: .assistant, text: "Hello! How can I help?")])

    // MARK: Fake servers

    /// A fake provider on `path` that records each call and answers it with `respond()`.
    static func server(_ path: RouterPath, _ recorder: Recorder,
                       respond: @escaping @Sendable () -> Response) -> Router<BasicRequestContext> {
        let router = Router()
        router.post(path) { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            let recorded = Recorded(path: request.uri.path, query: request.uri.query, uri: request.uri.description,
                                    headers: request.headers, body: Data(body.readableBytesView))
            recorder.box.withLockedValue { $0.append(recorded) }
            return respond()
        }
        return router
    }

    /// `text/event-stream` written in small pieces, so events (and CRLFs) arrive split.
    static func stream(_ text: String, pieceSize: Int = 7) -> Response {
        let bytes = Array(text.utf8)
        let pieces = stride(from: 0, to: bytes.count, by: pieceSize).map {
            ByteBuffer(bytes: bytes[$0..<min($0 + pieceSize, bytes.count)])
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream"], body: ResponseBody { writer in
            for piece in pieces { try await writer.write(piece) }
            try await writer.finish(nil)
        })
    }

    /// Each JSON as one `data:` event closed by a blank line.
    static func events(_ jsons: [String], lineEnding: String = "\r\n") -> String {
        jsons.map { "data: \($0)\(lineEnding)\(lineEnding)" }.joined()
    }

    static func json(_ text: String, status: Int) -> Response {
        Response(status: .init(code: status), headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func run(_ stream: AsyncThrowingStream<AnswerEvent, any Error>) async -> Outcome {
        var outcome = Outcome()
        do {
            for try await event in stream { outcome.events.append(event) }
        } catch {
            outcome.error = error
        }
        return outcome
    }

    static func gemini(_ recorder: Recorder = Recorder(), respond: @escaping @Sendable () -> Response) async throws -> Outcome {
        try await withLiveServer(Self.server("/v1beta/models/{call}", recorder, respond: respond)) { port in
            let provider = GeminiAnswerProvider(baseURL: "http://127.0.0.1:\(port)/v1beta", apiKey: "test-key",
                                                client: .shared, logger: Logger(label: "test"))
            return await Self.run(provider.answer(Self.prompt))
        }
    }

    static func openAI(_ recorder: Recorder = Recorder(), apiKey: String = "sk-test",
                       respond: @escaping @Sendable () -> Response) async throws -> Outcome {
        try await withLiveServer(Self.server("/v1/chat/completions", recorder, respond: respond)) { port in
            let provider = OpenAICompatibleAnswerProvider(baseURL: "http://127.0.0.1:\(port)/", apiKey: apiKey,
                                                          model: "llama3.1", client: .shared, logger: Logger(label: "test"))
            return await Self.run(provider.answer(Self.prompt))
        }
    }

    // MARK: Gemini

    @Test func geminiStreamsDeltasInOrderFromACRLFStreamAndSendsAGroundedRequest() async throws {
        let body = Self.events([
            #"{"candidates":[{"content":{"role":"model","parts":[{"text":"Thinking about refunds","thought":true}]}}]}"#,
            #"{"candidates":[{"content":{"role":"model","parts":[{"text":"Refunds take"}]}}],"usageMetadata":{"promptTokenCount":42}}"#,
            #"{"candidates":[{"content":{"role":"model","parts":[{"text":" 14 days "},{"text":"[1]."}]}}]}"#,
            #"{"candidates":[{"content":{"role":"model","parts":[{"text":""}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":42,"candidatesTokenCount":9,"totalTokenCount":51}}"#,
        ])
        let recorder = Recorder()
        let outcome = try await Self.gemini(recorder) { Self.stream(body) }
        let expected: [AnswerEvent] = [.text("Refunds take"), .text(" 14 days [1]."), .finished(reason: "stop")]
        #expect(outcome.events == expected)
        #expect(outcome.errorText == nil)

        let call = try #require(recorder.calls.first)
        #expect(call.path == "/v1beta/models/gemini-2.5-flash:streamGenerateContent")
        #expect(call.query == "alt=sse")
        #expect(call.headers[HTTPField.Name("x-goog-api-key")!] == "test-key")
        #expect(!call.uri.contains("test-key") && !call.uri.contains("key="), "the key stays out of URLs")
        let json = call.json
        let systemParts = (json["systemInstruction"] as? [String: Any])?["parts"] as? [[String: Any]] ?? []
        let system = systemParts.compactMap { $0["text"] as? String }.joined()
        #expect(system.contains("You are Acme's support assistant."))
        #expect(system.contains(PromptText.groundingInstructions))
        let contents = json["contents"] as? [[String: Any]] ?? []
        let roles = contents.compactMap { $0["role"] as? String }
        #expect(roles == ["user", "model", "user"])
        let lastParts = contents.last?["parts"] as? [[String: Any]] ?? []
        let question = lastParts.compactMap { $0["text"] as? String }.joined()
        #expect(question.contains("Refunds are issued within 14 days of a request."))
        #expect(question.contains("How long do refunds take?"))
        let config = json["generationConfig"] as? [String: Any] ?? [:]
        #expect(config["maxOutputTokens"] as? Int == 1024)
        #expect(config["candidateCount"] as? Int == 1)
    }

    @Test func geminiBlockedPromptsAndSafetyFinishesAreBlocked() async throws {
        let blockedPrompt = try await Self.gemini {
            Self.stream(Self.events([#"{"promptFeedback":{"blockReason":"SAFETY","safetyRatings":[]},"usageMetadata":{"promptTokenCount":8}}"#]))
        }
        #expect(blockedPrompt.events.isEmpty)
        #expect(blockedPrompt.failure == ProviderError.blocked(reason: "safety"))

        let unsafeAnswer = try await Self.gemini {
            Self.stream(Self.events([
                #"{"candidates":[{"content":{"role":"model","parts":[{"text":"Partial"}]}}]}"#,
                #"{"candidates":[{"finishReason":"SAFETY","safetyRatings":[{"category":"HARM_CATEGORY_HARASSMENT","probability":"HIGH"}]}]}"#,
            ]))
        }
        let expected: [AnswerEvent] = [.text("Partial")]
        #expect(unsafeAnswer.events == expected)
        #expect(unsafeAnswer.failure == ProviderError.blocked(reason: "safety"))
    }

    @Test func geminiQuotaAndServerErrorsAreRetryableAndRefusalsAreNot() async throws {
        let limited = try await Self.gemini {
            Self.json(#"{"error":{"code":429,"message":"Resource has been exhausted","status":"RESOURCE_EXHAUSTED"}}"#, status: 429)
        }
        #expect(limited.failure == ProviderError.unavailable("429: Resource has been exhausted"))
        #expect(limited.failure?.isRetryable == true)

        let denied = try await Self.gemini {
            Self.json(#"{"error":{"code":403,"message":"API key not valid","status":"PERMISSION_DENIED"}}"#, status: 403)
        }
        #expect(denied.failure == ProviderError.rejected(status: 403, message: "API key not valid"))
        #expect(denied.failure?.isRetryable == false)

        let overloaded = try await Self.gemini {
            Self.stream(Self.events([#"{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}"#]))
        }
        #expect(overloaded.failure == ProviderError.unavailable("503: The model is overloaded."))
    }

    @Test func aGeminiStreamCutOffWithoutAFinishReasonIsMalformed() async throws {
        let unfinished = try await Self.gemini {
            Self.stream(Self.events([#"{"candidates":[{"content":{"role":"model","parts":[{"text":"Refunds take"}]}}]}"#]))
        }
        let expected: [AnswerEvent] = [.text("Refunds take")]
        #expect(unfinished.events == expected)
        #expect(unfinished.failure == ProviderError.malformed("stream ended without a finish reason"))

        let truncated = try await Self.gemini {
            Self.stream(#"data: {"candidates":[{"content":{"role":"model","parts":[{"text":"Refunds"#)
        }
        #expect(truncated.events.isEmpty)
        #expect(truncated.failure == ProviderError.malformed("an event was not a GenerateContentResponse"))
    }

    // MARK: OpenAI-compatible

    @Test func openAICompatibleStreamsDeltasUntilDoneWithBearerAuth() async throws {
        let body = ": keep-alive\n\n" + Self.events([
            #"{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#,
            #"{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Refunds take"},"finish_reason":null}]}"#,
            #"{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":" 14 days [1]."},"finish_reason":null}]}"#,
            #"{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
            #"{"id":"c1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":40,"completion_tokens":6,"total_tokens":46}}"#,
            "[DONE]",
        ], lineEnding: "\n")
        let recorder = Recorder()
        let outcome = try await Self.openAI(recorder) { Self.stream(body) }
        let expected: [AnswerEvent] = [.text("Refunds take"), .text(" 14 days [1]."), .finished(reason: "stop")]
        #expect(outcome.events == expected)
        #expect(outcome.errorText == nil)

        let call = try #require(recorder.calls.first)
        #expect(call.path == "/v1/chat/completions")
        #expect(call.headers[.authorization] == "Bearer sk-test")
        let json = call.json
        #expect(json["stream"] as? Bool == true)
        #expect(json["model"] as? String == "llama3.1")
        #expect(json["max_tokens"] as? Int == 1024)
        let messages = json["messages"] as? [[String: Any]] ?? []
        let roles = messages.compactMap { $0["role"] as? String }
        #expect(roles == ["system", "user", "assistant", "user"])
        #expect(messages.first?["content"] as? String == PromptText.system(Self.prompt.systemPrompt))
        let question = messages.last?["content"] as? String ?? ""
        #expect(question.contains("Refunds are issued within 14 days of a request."))
        #expect(question.contains("How long do refunds take?"))
    }

    @Test func openAICompatibleReportsVLLMFlatErrorsStreamErrorsAndTruncation() async throws {
        let recorder = Recorder()
        let flat = try await Self.openAI(recorder, apiKey: "") {
            Self.json(#"{"object":"error","message":"This model's maximum context length is 4096 tokens.","type":"BadRequestError","param":null,"code":400}"#,
                      status: 400)
        }
        #expect(flat.failure == ProviderError.rejected(status: 400, message: "This model's maximum context length is 4096 tokens."))
        #expect(recorder.calls.first?.headers[.authorization] == "Bearer contexo", "an empty key still sends one")

        let midStream = try await Self.openAI {
            Self.stream(Self.events([
                #"{"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Refunds"},"finish_reason":null}]}"#,
                #"{"error":{"message":"The server is overloaded","type":"server_error","code":null}}"#,
            ], lineEnding: "\n"))
        }
        let expected: [AnswerEvent] = [.text("Refunds")]
        #expect(midStream.events == expected)
        #expect(midStream.failure == ProviderError.unavailable("500: The server is overloaded"))

        let filtered = try await Self.openAI {
            Self.stream(Self.events([#"{"choices":[{"index":0,"delta":{},"finish_reason":"content_filter"}]}"#, "[DONE]"]))
        }
        #expect(filtered.failure == ProviderError.blocked(reason: "content_filter"))

        let cutOff = try await Self.openAI {
            Self.stream(Self.events([#"{"choices":[{"index":0,"delta":{"content":"Refunds"},"finish_reason":null}]}"#]))
        }
        #expect(cutOff.failure == ProviderError.malformed("stream ended without a finish reason or [DONE]"))
    }

    // MARK: Server-sent events

    @Test func theEventParserHandlesAnySplitLineEndingsCommentsAndMultiLineData() throws {
        let text = ": a comment\r\n"
            + "data: first\r\n\r\n"
            + "data: line one\n" + "data: line two\n\n"
            + "event: ping\ndata:no-space\r\r"
            + "data: {\"a\":1}\r\n" + "id: 7\r\n" + ": another comment\r\n\r\n"
            + "retry: 100\n\n"  // no data: no event
            + "data: tail"
        let expected = ["first", "line one\nline two", "no-space", "{\"a\":1}", "tail"]

        var byteByByte = ServerSentEventParser()
        var events: [String] = []
        for byte in Array(text.utf8) { try events.append(contentsOf: byteByByte.feed([byte])) }
        events += byteByByte.finish()
        #expect(events == expected)

        var whole = ServerSentEventParser()
        var wholeEvents = try whole.feed(ByteBuffer(string: text))
        #expect(wholeEvents == Array(expected.dropLast()), "the last event waits for its blank line")
        wholeEvents += whole.finish()
        #expect(wholeEvents == expected)

        #expect(throws: ProviderError.self) {
            var small = ServerSentEventParser(maxEventBytes: 16)
            _ = try small.feed(Array("data: 0123456789abcdef\n".utf8))
        }
    }
}
