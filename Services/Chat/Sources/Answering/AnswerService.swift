import Contract
import Foundation
import Logging
import Platform

/// What a visitor's answer stream carries: pieces of text, then one final event.
public enum AnswerStreamEvent: Sendable, Equatable {
    case token(String)
    case done(AnswerSummary)
    /// The answer failed after it started; the message is marked failed and its quota unit refunded.
    case failed(message: String)
}

/// The final event of an answer.
public struct AnswerSummary: Codable, Sendable, Equatable {
    public var messageID: UUID
    public var questionID: UUID
    public var text: String
    public var citations: [Citation]
    /// True when the documents held nothing relevant (the question is listed for the customer).
    public var unanswered: Bool

    enum CodingKeys: String, CodingKey {
        case text, citations, unanswered
        case messageID = "message_id"
        case questionID = "question_id"
    }
}

/// Answers one visitor question that was already metered: retrieval from Ingest for this widget,
/// then the model, streamed; the answer and its citations are stored at the end. Any failure
/// after metering ends the stream with `.failed`, stores the answer as failed and refunds the unit.
public struct AnswerService: Sendable {
    /// Passages retrieved per question.
    public static let passageLimit = 6
    /// Prior turns sent when the widget includes history (S8.1: bounded).
    public static let historyLimit = 6
    /// What a widget says when its documents hold nothing relevant.
    public static let noAnswerText = "I'm sorry, I couldn't find an answer to that in this site's documents."

    /// The same, in the question's language when it is recognised.
    public static func noAnswerText(for question: String) -> String {
        switch TextLanguage.detect(question) {
        case .german: "Leider habe ich dazu in den Dokumenten dieser Website keine Antwort gefunden."
        case .french: "Désolé, je n'ai pas trouvé de réponse à cette question dans les documents de ce site."
        case .spanish: "Lo siento, no encontré una respuesta a eso en los documentos de este sitio."
        case .italian: "Mi dispiace, non ho trovato una risposta a questa domanda nei documenti di questo sito."
        case .dutch: "Sorry, ik heb daar in de documenten van deze site geen antwoord op gevonden."
        case .portuguese: "Desculpe, não encontrei uma resposta para isso nos documentos deste site."
        case .english, nil: noAnswerText
        }
    }

    let store: ConversationStore
    let knowledge: KnowledgeClient
    let provider: any AnswerProvider
    let logger: Logger

    public init(store: ConversationStore, knowledge: KnowledgeClient, provider: any AnswerProvider, logger: Logger) {
        self.store = store
        self.knowledge = knowledge
        self.provider = provider
        self.logger = logger
    }

    /// A passage is relevant when it matched the question's words, or is close enough in meaning.
    static func relevant(_ passage: KnowledgePassage) -> Bool {
        passage.textRank != nil || passage.similarity >= 0.35
    }

    public func answer(_ widget: WidgetEntry, session: UUID, question: MeteredQuestion, text: String,
                       requestID: String) -> AsyncStream<AnswerStreamEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: AnswerStreamEvent.self)
        let task = Task {
            await run(widget, session: session, question: question, text: text, requestID: requestID, into: continuation)
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    private func run(_ widget: WidgetEntry, session: UUID, question: MeteredQuestion, text: String, requestID: String,
                     into continuation: AsyncStream<AnswerStreamEvent>.Continuation) async {
        let answerID = UUID()
        var answer = ""
        do {
            let settings = try await store.answeringSettings(widget)
            let passages = try await knowledge.search(
                owner: widget.owner, widget: widget.id, query: text, limit: Self.passageLimit, requestID: requestID
            ).filter(Self.relevant)
            guard !passages.isEmpty else {
                let apology = Self.noAnswerText(for: text)
                continuation.yield(.token(apology))
                try await store.finishAnswer(widget, session: session, question: question, answerID: answerID,
                                             text: apology, citations: [], unanswered: true, provider: "none")
                continuation.yield(.done(AnswerSummary(messageID: answerID, questionID: question.messageID,
                                                       text: apology, citations: [], unanswered: true)))
                return
            }
            let history = settings.includeHistory
                ? try await store.history(widget, session: session, before: question.messageID, limit: Self.historyLimit) : []
            let prompt = AnswerPrompt(systemPrompt: settings.systemPrompt, passages: passages, question: text, history: history)
            for try await event in provider.answer(prompt) {
                if case .text(let piece) = event, !piece.isEmpty {
                    answer += piece
                    continuation.yield(.token(piece))
                }
            }
            try Task.checkCancellation()
            let citations = Self.citations(in: answer, passages: passages)
            try await store.finishAnswer(widget, session: session, question: question, answerID: answerID, text: answer,
                                         citations: citations, unanswered: false, provider: provider.name)
            continuation.yield(.done(AnswerSummary(messageID: answerID, questionID: question.messageID, text: answer,
                                                   citations: citations, unanswered: false)))
        } catch {
            logger.warning("answer failed; refunding the message", metadata: [
                "widget": "\(widget.id)", "provider": "\(provider.name)", "error": "\(error)"])
            do {
                try await store.failAnswer(widget, session: session, question: question, answerID: answerID,
                                           partialText: answer, error: "\(error)", provider: provider.name)
            } catch {
                logger.error("could not record the failed answer", metadata: ["error": "\(error)"])
            }
            continuation.yield(.failed(message: Self.visitorMessage(for: error)))
        }
    }

    /// The sources the answer cites as `[n]`; all of them when it cites none explicitly.
    static func citations(in answer: String, passages: [KnowledgePassage]) -> [Citation] {
        let all = passages.enumerated().map { index, passage in
            Citation(number: index + 1, documentID: passage.documentID, title: passage.documentTitle,
                     sourceURL: passage.sourceURL, heading: passage.heading, page: passage.page,
                     characterStart: passage.characterStart, characterEnd: passage.characterEnd)
        }
        let cited = all.filter { answer.contains("[\($0.number)]") }
        return cited.isEmpty ? all : cited
    }

    static func visitorMessage(for error: any Error) -> String {
        switch error {
        case ProviderError.blocked: "The assistant cannot answer this question."
        case ProviderError.circuitOpen: "The assistant is busy right now; please try again in a minute."
        default: "The assistant could not answer just now; please try again."
        }
    }
}
