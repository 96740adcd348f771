import AsyncHTTPClient
import Foundation
import Logging

/// Answers with Gemini's `streamGenerateContent?alt=sse`: the widget prompt and grounding rules as
/// `systemInstruction`, prior turns as `user`/`model` contents, then the passages and question.
/// Thought parts are skipped; `STOP` and `MAX_TOKENS` finish the answer, any other finish reason
/// or a blocked prompt throws ``ProviderError/blocked(reason:)``, and a stream that ends without a
/// finish reason is ``ProviderError/malformed(_:)``. The key travels in `x-goog-api-key`, never in
/// the URL.
public struct GeminiAnswerProvider: AnswerProvider {
    public let model: String
    let baseURL: String
    let apiKey: String
    let transport: StreamingTransport

    public var name: String { "gemini:\(model)" }

    public init(baseURL: String, apiKey: String, model: String = "gemini-2.5-flash", client: HTTPClient,
                timeout: Duration = .seconds(60), logger: Logger) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.apiKey = apiKey
        self.model = model
        self.transport = StreamingTransport(provider: "gemini:\(model)", client: client, timeout: timeout, logger: logger)
    }

    public func answer(_ prompt: AnswerPrompt) -> AsyncThrowingStream<AnswerEvent, any Error> {
        let url = "\(baseURL)/models/\(model):streamGenerateContent?alt=sse"
        let headers = [("x-goog-api-key", apiKey)]
        let request = Self.request(for: prompt)
        let transport = self.transport
        return transport.stream { continuation in
            let body = try await transport.open(url, headers: headers, body: request)
            var finished = false
            do {
                try await transport.forEachEvent(in: body) { data in
                    // Chunks after the finish (late usage metadata) are read but ignored.
                    if !finished { finished = try Self.apply(data, to: continuation) }
                    return true
                }
            } catch _ where finished {
                // The answer is complete; a failure while reading the rest of the body does not matter.
            }
            guard finished else { throw ProviderError.malformed("stream ended without a finish reason") }
        }
    }

    static func request(for prompt: AnswerPrompt) -> GenerateRequest {
        var contents: [GenerateRequest.Content] = []
        for turn in prompt.history where !turn.text.isEmpty {
            let role = turn.role == .visitor ? "user" : "model"
            if contents.last?.role == role {
                contents[contents.count - 1].parts.append(.init(text: turn.text))  // keep roles alternating
            } else {
                contents.append(.init(role: role, parts: [.init(text: turn.text)]))
            }
        }
        let question = GenerateRequest.Part(text: PromptText.user(prompt))
        if contents.last?.role == "user" {
            contents[contents.count - 1].parts.append(question)
        } else {
            contents.append(.init(role: "user", parts: [question]))
        }
        return GenerateRequest(
            systemInstruction: .init(role: nil, parts: [.init(text: PromptText.system(prompt.systemPrompt))]),
            contents: contents,
            generationConfig: .init(temperature: 0.2, maxOutputTokens: 1024, candidateCount: 1,
                                    thinkingConfig: .init(thinkingBudget: 0)))
    }

    /// Applies one streamed `GenerateContentResponse`; returns whether it finished the answer.
    static func apply(_ data: String, to continuation: StreamingTransport.Continuation) throws -> Bool {
        guard let chunk = try? JSONDecoder().decode(StreamChunk.self, from: Data(data.utf8)) else {
            throw ProviderError.malformed("an event was not a GenerateContentResponse")
        }
        if let error = chunk.error {
            throw StreamingTransport.statusError(error.code?.value ?? 500, message: error.message ?? "error in the stream")
        }
        if let reason = chunk.promptFeedback?.blockReason {
            throw ProviderError.blocked(reason: reason.lowercased())
        }
        guard let candidate = chunk.candidates?.first else { return false }  // e.g. usage metadata only
        let text = (candidate.content?.parts ?? []).filter { $0.thought != true }.compactMap(\.text).joined()
        if !text.isEmpty { continuation.yield(.text(text)) }
        switch candidate.finishReason {
        case nil:
            return false
        case "STOP"?:
            continuation.yield(.finished(reason: "stop"))
            return true
        case "MAX_TOKENS"?:
            continuation.yield(.finished(reason: "length"))
            return true
        case let reason?:  // SAFETY, RECITATION, BLOCKLIST, PROHIBITED_CONTENT, SPII, OTHER, newer values
            throw ProviderError.blocked(reason: reason.lowercased())
        }
    }

    struct GenerateRequest: Encodable, Sendable {
        struct Part: Encodable, Sendable { var text: String }
        struct Content: Encodable, Sendable {
            var role: String?
            var parts: [Part]
        }
        struct GenerationConfig: Encodable, Sendable {
            var temperature: Double
            var maxOutputTokens: Int
            var candidateCount: Int
            /// 2.5 models think by default, and thinking tokens count against `maxOutputTokens`;
            /// grounded answers need none, and the visitor waits less for the first token.
            var thinkingConfig: ThinkingConfig

            struct ThinkingConfig: Encodable, Sendable {
                var thinkingBudget: Int
            }
        }
        var systemInstruction: Content
        var contents: [Content]
        var generationConfig: GenerationConfig
    }

    struct StreamChunk: Decodable {
        struct Candidate: Decodable {
            struct Content: Decodable { var parts: [Part]? }
            struct Part: Decodable {
                var text: String?
                var thought: Bool?
            }
            var content: Content?
            var finishReason: String?
        }
        struct PromptFeedback: Decodable { var blockReason: String? }
        var candidates: [Candidate]?
        var promptFeedback: PromptFeedback?
        var error: StreamedError?
    }
}
