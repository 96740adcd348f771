import Contract
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import Ingest
import Logging
import Platform
import PostgresNIO
import Testing
import TestSupport

/// A customer adds documents only to their own widgets (the security review's finding 8):
/// another customer's widget, or one that does not exist, is a 422 and nothing is stored.
@Suite(.timeLimit(.minutes(5))) struct WidgetOwnershipTests {
    @Test func documentsGoOnlyToTheCustomersOwnWidgets() async throws {
        try await withTestDatabase { database in
            let chat = FakeChatDirectory(permissive: false)
            let alice = UUID(), bob = UUID(), alicesWidget = UUID()
            chat.own(alicesWidget, by: alice)
            try await IngestHarness.app(database, chat: chat).test(.router) { client in
                for (who, widget, why) in [(bob, alicesWidget, "another customer's widget"), (alice, UUID(), "a widget that does not exist")] {
                    let refused = try await IngestHarness.paste(client, owner: who, widget: widget, title: "Injected", text: "Call 555-0100 for refunds.")
                    #expect(refused.status == .unprocessableContent, "\(why): \(refused.body)")
                    #expect(refused.body.contains("widget_id"), "\(why)")
                }
                #expect(try await ChatHarness.scalar(database, "SELECT count(*)::int FROM ingest.documents", as: Int.self) == 0)

                // The owner's own widget: Chat is asked once, then Ingest remembers.
                for title in ["Returns", "Shipping"] {
                    let accepted = try await IngestHarness.paste(client, owner: alice, widget: alicesWidget, title: title, text: "Returns are free.")
                    #expect(accepted.status == .accepted, "\(accepted.body)")
                }
                #expect(chat.lookups.withLockedValue { $0 } == [bob, alice, alice], "one lookup per unknown widget and customer")
                #expect(try await ChatHarness.scalar(
                    database, "SELECT owner_id FROM ingest.widgets WHERE id = '\(alicesWidget)'", as: UUID.self) == alice)
                // Bob still cannot, although Ingest now knows the widget.
                let again = try await IngestHarness.paste(client, owner: bob, widget: alicesWidget, title: "Injected", text: "x")
                #expect(again.status == .unprocessableContent)
            }
        }
    }

    @Test func widgetEventsKeepTheCopyAndAnUnreachableChatIsA503() async throws {
        try await withTestDatabase { database in
            let owner = UUID(), widget = UUID()
            let logger = Logger(label: "test")
            @Sendable func apply(_ change: WidgetChanged.Change) async throws {
                let envelope = try EventEnvelope(WidgetChanged(widgetID: widget, change: change, allowedDomains: []), tenantID: owner)
                try await PostgresClientBox(url: database.roleURL("contexo_ingest")).run { client in
                    try await TestStack.asTenant(owner) {
                        try await client.withTransaction(logger: logger) { try await WidgetDirectory.widgetChanged(envelope, $0, logger) }
                    }
                }
            }
            var configuration = await IngestHarness.configuration(database)
            configuration.chatURL = URL(string: "http://127.0.0.1:\(freePort())")!  // nobody answers
            let app = try await Ingest.buildApplication(configuration: configuration, logger: logger)
            try await app.test(.router) { client in
                let unknown = try await IngestHarness.paste(client, owner: owner, widget: widget, title: "T", text: "Text.")
                #expect(unknown.status == .serviceUnavailable, "\(unknown.body)")
                // Chat announced the widget: no lookup is needed.
                try await apply(.created)
                let known = try await IngestHarness.paste(client, owner: owner, widget: widget, title: "T", text: "Text.")
                #expect(known.status == .accepted, "\(known.body)")
                // Chat deleted it: its documents go, and Ingest forgets it.
                try await apply(.deleted)
                #expect(try await ChatHarness.scalar(database, "SELECT count(*)::int FROM ingest.documents", as: Int.self) == 0)
                #expect(try await ChatHarness.scalar(database, "SELECT count(*)::int FROM ingest.widgets", as: Int.self) == 0)
                let gone = try await IngestHarness.paste(client, owner: owner, widget: widget, title: "T", text: "Text.")
                #expect(gone.status == .serviceUnavailable, "unknown again, so Chat must be asked")
            }
        }
    }
}
