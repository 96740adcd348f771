import Contract
import Foundation
import Testing

/// Pins the wire format of every event: a change to a field name, a type or a date format shows up
/// as a diff of `Golden/<type>.json`. Regenerate deliberately with `CONTEXO_UPDATE_GOLDEN=1`.
@Suite(.timeLimit(.minutes(5))) struct GoldenEventTests {
    static let eventID = UUID(uuidString: "5f0b2a4e-9c1d-4f3e-8a6b-1d2c3e4f5a6b")!
    static let tenant = UUID(uuidString: "8d3f6a2e-1c4b-4e8f-9a51-0f2b7c9d1e44")!
    static let widget = UUID(uuidString: "0e9a7c55-3b1f-4c2d-9e8f-7a6b5c4d3e2f")!
    static let document = UUID(uuidString: "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d")!
    static let session = UUID(uuidString: "b7e1d2c3-4a5b-4c6d-8e7f-9a0b1c2d3e4f")!
    static let grant = UUID(uuidString: "c0ffee00-0000-4000-8000-000000000001")!
    static let at = Date(timeIntervalSince1970: 1_798_000_000.25)
    static let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    static let samples: [(String, any DomainEvent)] = [
        (EntitlementsChanged.type, EntitlementsChanged(
            plan: "pro", status: "active",
            limits: PlanLimits(widgets: 5, messagesPerMonth: 5000, knowledgeBytes: 52_428_800),
            periodEnd: Date(timeIntervalSince1970: 1_800_000_000), revision: 7)),
        (CreditsGranted.type, CreditsGranted(grantID: grant, credits: 1000, orderID: "4123456")),
        (CreditsRevoked.type, CreditsRevoked(grantID: grant, credits: 1000, reason: "order_refunded")),
        (AccountDeleted.type, AccountDeleted(requestedAt: at)),
        (WidgetChanged.type, WidgetChanged(widgetID: widget, change: .updated, allowedDomains: ["example.com", "*.example.org"])),
        (HandoffRequested.type, HandoffRequested(widgetID: widget, sessionID: session, handoffID: grant)),
        (QuestionUnanswered.type, QuestionUnanswered(widgetID: widget, sessionID: session, messageID: document)),
        (FeedbackReceived.type, FeedbackReceived(widgetID: widget, sessionID: session, messageID: document, vote: "down")),
        (ConversationEnded.type, ConversationEnded(widgetID: widget, sessionID: session)),
        (DocumentRequested.type, DocumentRequested(documentID: document, widgetID: widget, sourceKind: "upload", byteSize: 48213)),
        (DocumentReady.type, DocumentReady(documentID: document, widgetID: widget, chunks: 42)),
        (DocumentFailed.type, DocumentFailed(documentID: document, widgetID: widget, reason: "pdf has no text layer")),
    ]

    @Test func everyEventTypeHasASample() {
        #expect(Set(Self.samples.map(\.0)) == Set(EventCatalog.types.map { $0.type }))
    }

    @Test(arguments: samples.map(\.0))
    func encodingMatchesTheGoldenFile(type: String) throws {
        let event = try #require(Self.samples.first { $0.0 == type }?.1)
        let envelope = try EventEnvelope(event, id: Self.eventID, occurredAt: Self.at, tenantID: Self.tenant,
                                         traceparent: Self.traceparent)
        let encoded = String(decoding: try envelope.encoded(), as: UTF8.self) + "\n"
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Golden").appendingPathComponent(type + ".json")
        if ProcessInfo.processInfo.environment["CONTEXO_UPDATE_GOLDEN"] == "1" {
            try encoded.write(to: file, atomically: true, encoding: .utf8)
        }
        let golden = try String(contentsOf: file, encoding: .utf8)
        #expect(encoded == golden, "wire format of \(type) changed; if on purpose, bump its version and regenerate")
        // And it reads back into the same typed event.
        let decoded = try EventEnvelope.decode(from: Data(golden.utf8))
        #expect(decoded == envelope)
    }

    @Test func unknownFieldsAreIgnoredAndUnknownTypesStillRead() throws {
        let json = """
        {"id":"\(Self.eventID.uuidString)","type":"billing.something.new","version":3,
         "occurred_at":"2026-11-30T10:00:00.000Z","tenant_id":null,"payload":{"x":1},"added_later":true}
        """
        let envelope = try EventEnvelope.decode(from: Data(json.utf8))
        #expect(envelope.type == "billing.something.new")
        #expect(envelope.payload == .object(["x": .number(1)]))
        #expect(throws: EventContractError.typeMismatch(expected: CreditsGranted.type, found: "billing.something.new")) {
            try envelope.decode(CreditsGranted.self)
        }
        let newer = """
        {"id":"\(Self.eventID.uuidString)","type":"billing.credits.granted","version":1,"occurred_at":"2026-11-30T10:00:00Z",
         "tenant_id":"\(Self.tenant.uuidString)","payload":{"grant_id":"\(Self.grant.uuidString)","credits":5,"order_id":"9","bonus":"ignored"}}
        """
        let granted = try EventEnvelope.decode(from: Data(newer.utf8)).decode(CreditsGranted.self)
        #expect(granted == CreditsGranted(grantID: Self.grant, credits: 5, orderID: "9"))
    }
}
