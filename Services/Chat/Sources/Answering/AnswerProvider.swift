import Contract
import Foundation

/// Everything a model is given for one answer, and nothing more (S8.1): the widget's system
/// prompt, the passages retrieved for the question, the visitor's message and — only when the
/// customer turned it on — a bounded number of prior turns. No IP, hash, email, customer id or
/// session token ever enters it.
public struct AnswerPrompt: Sendable, Equatable {
    public var systemPrompt: String
    public var passages: [KnowledgePassage]
    public var question: String
    public var history: [PriorTurn]

    public init(systemPrompt: String, passages: [KnowledgePassage], question: String, history: [PriorTurn] = []) {
        self.systemPrompt = systemPrompt
        self.passages = passages
        self.question = question
        self.history = history
    }
}

/// One earlier message of the conversation.
public struct PriorTurn: Sendable, Equatable {
    /// Who said it.
    public enum Role: String, Sendable { case visitor, assistant }
    public var role: Role
    public var text: String

    public init(role: Role, text: String) {
        self.role = role
        self.text = text
    }
}

/// What a provider streams back.
public enum AnswerEvent: Sendable, Equatable {
    /// The next piece of the answer's text (append the pieces).
    case text(String)
    /// The model finished; `reason` is the provider's (`stop`, `length`, …) in lower case.
    case finished(reason: String)
}

/// A model that answers from the retrieved passages. Implementations stream; a failure before
/// the first `.text` may be retried by the caller (``ResilientProvider``), one after it ends the
/// answer with an error.
public protocol AnswerProvider: Sendable {
    /// For logs and metrics: `local`, `gemini:<model>`, `openai:<model>`.
    var name: String { get }
    func answer(_ prompt: AnswerPrompt) -> AsyncThrowingStream<AnswerEvent, any Error>
}

/// Why a provider could not answer.
public enum ProviderError: Error, Equatable, CustomStringConvertible {
    /// A 4xx other than 429 (bad key, unknown model, bad request): retrying will not help.
    case rejected(status: Int, message: String)
    /// 429, 5xx, a timeout or a transport failure: worth retrying (before the first token).
    case unavailable(String)
    /// The provider refused to answer (prompt blocked, safety finish).
    case blocked(reason: String)
    /// The stream did not have the documented shape, or ended without a finish.
    case malformed(String)
    /// The circuit breaker is open after repeated failures.
    case circuitOpen

    public var isRetryable: Bool {
        if case .unavailable = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .rejected(let status, let message): "the AI provider refused the request (\(status)): \(message)"
        case .unavailable(let message): "the AI provider is unavailable: \(message)"
        case .blocked(let reason): "the AI provider declined to answer (\(reason))"
        case .malformed(let message): "the AI provider's answer was malformed: \(message)"
        case .circuitOpen: "the AI provider failed repeatedly; answers are paused briefly"
        }
    }
}

/// The text every remote model gets: the numbered passages, then the question. The instructions
/// that frame it (answer only from the passages, cite them as [n], say so when they do not
/// answer) are appended to the widget's system prompt.
public enum PromptText {
    public static let groundingInstructions = """
        Answer only from the numbered sources below. Cite the sources you use as [1], [2], … \
        If the sources do not contain the answer, say that you do not know; never invent facts.
        """

    public static func system(_ widgetPrompt: String) -> String {
        widgetPrompt.isEmpty ? groundingInstructions : "\(widgetPrompt)\n\n\(groundingInstructions)"
    }

    public static func user(_ prompt: AnswerPrompt) -> String {
        var text = "Sources:\n"
        for (index, passage) in prompt.passages.enumerated() {
            var label = passage.documentTitle
            if !passage.heading.isEmpty { label += " — \(passage.heading)" }
            if let page = passage.page { label += " (page \(page))" }
            text += "[\(index + 1)] \(label)\n\(passage.text)\n\n"
        }
        return text + "Question: \(prompt.question)"
    }
}
