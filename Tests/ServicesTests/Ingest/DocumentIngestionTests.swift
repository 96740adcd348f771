import Contract
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import Ingest
import Logging
import PostgresNIO
import Testing
import TestSupport

/// Documents through Ingest's API into searchable chunks, against the real Postgres: every way to
/// send one, the storage quota under concurrency (S4.2), failures that release their bytes, and
/// tenant isolation checked with the service's own role.
@Suite(.timeLimit(.minutes(5))) struct DocumentIngestionTests {
    static let markdown = """
        # Returns
        ## Refund policy
        Refunds are issued within 14 days of a return request, to the original payment method.

        ## Exchanges
        Exchanges for another size are free of charge.
        """

    @Test func everyUploadKindBecomesASearchableCitedDocument() async throws {
        try await withTestDatabase { database in
            let owner = UUID(), widget = UUID()
            try await IngestHarness.app(database).test(.router) { client in
                let pasted = try await IngestHarness.paste(client, owner: owner, widget: widget, title: "Returns", text: Self.markdown, format: "markdown")
                #expect(pasted.status == .accepted, "\(pasted.body)")
                #expect(pasted.json["status"] as? String == "queued")
                let pdf = try await IngestHarness.upload(
                    client, owner: owner, widget: widget, title: "Shipping guide", contentType: "application/pdf",
                    body: DocumentFixtures.pdf(pages: [["Shipping"], ["Parcels to Norway take 6 working days."]]))
                #expect(pdf.status == .accepted, "\(pdf.body)")
                let docx = try await IngestHarness.multipart(
                    client, owner: owner, widget: widget, filename: "handbook.docx", contentType: "application/octet-stream",
                    file: try await DocumentFixtures.docx([("Heading1", "Holidays"), (nil, "Staff get 25 vacation days a year.")]))
                #expect(docx.status == .accepted, "\(docx.body)")
                #expect(docx.json["title"] as? String == "handbook.docx")
                let html = try await IngestHarness.upload(
                    client, owner: owner, widget: widget, title: "FAQ", contentType: "text/html; charset=utf-8",
                    body: Data("<nav>Menu</nav><h1>FAQ</h1><p>Gift cards never expire.</p><script>alert(1)</script>".utf8))
                let csv = try await IngestHarness.multipart(
                    client, owner: owner, widget: widget, filename: "prices.csv", contentType: "text/csv",
                    file: Data("product,price\nUmbrella,25 EUR\nRaincoat,80 EUR\n".utf8))
                #expect(html.status == .accepted && csv.status == .accepted)

                #expect(try await IngestHarness.settle(database) == 5)
                let list = try await IngestHarness.send(client, "/v1/documents?widget_id=\(widget)", owner: owner)
                let documents = try #require(list.json["documents"] as? [[String: Any]])
                #expect(documents.map { $0["status"] as? String } == Array(repeating: "ready", count: 5), "\(list.body)")
                #expect(documents.allSatisfy { ($0["chunk_count"] as? Int ?? 0) > 0 })
                let usage = try #require(list.json["usage"] as? [String: Any])
                #expect(usage["bytes_limit"] as? Int == 5_000_000)
                #expect(usage["bytes_used"] as? Int == documents.reduce(0) { $0 + ($1["byte_size"] as? Int ?? 0) })

                let refund = try await IngestHarness.search(client, owner: owner, widget: widget, query: "How long do refunds take?")
                let best = try #require(refund.first)
                #expect(best.text.contains("within 14 days"), "\(refund.map(\.text))")
                #expect(best.documentTitle == "Returns" && best.heading == "Returns › Refund policy")
                #expect(best.vectorRank != nil && best.textRank != nil && best.similarity > 0)
                let norway = try await IngestHarness.search(client, owner: owner, widget: widget, query: "How long do parcels to Norway take?")
                #expect(norway.first?.documentTitle == "Shipping guide" && norway.first?.page == 2, "\(norway)")
                for (query, expected) in [("vacation days", "25 vacation days"), ("gift card expiry", "never expire"), ("raincoat price", "80 EUR")] {
                    let found = try await IngestHarness.search(client, owner: owner, widget: widget, query: query)
                    #expect(found.first?.text.contains(expected) == true, "\(query): \(found.map(\.text))")
                }
                let html404 = try await IngestHarness.search(client, owner: owner, widget: UUID(), query: "refund")
                #expect(html404.isEmpty, "another widget's search finds nothing")
            }
            // The ready events went out with the chunks, in the same transactions.
            let events = try await database.withConnection(database.adminURL) { connection in
                try await connection.query(
                    "SELECT count(*)::int FROM ingest.outbox WHERE envelope::jsonb ->> 'type' = 'ingest.document.ready'",
                    logger: Logger(label: "test")).collect().first?.decode(Int.self)
            }
            #expect(events == 5)
        }
    }

    @Test func concurrentUploadsNeverExceedTheStorageLimitAndFailuresReleaseTheirBytes() async throws {
        try await withTestDatabase { database in
            let owner = UUID(), widget = UUID()
            try await IngestHarness.app(database, freeKnowledgeBytes: 10_000).test(.router) { client in
                // A broken PDF is accepted, fails, and holds nothing afterwards.
                var broken = Data("%PDF-1.4\n".utf8)
                broken += Data(repeating: 0x20, count: 4_000)
                let failed = try await IngestHarness.upload(client, owner: owner, widget: widget, title: "Broken",
                                                            contentType: "application/pdf", body: broken)
                #expect(failed.status == .accepted)
                try await IngestHarness.settle(database)
                let document = try await IngestHarness.document(client, owner: owner, id: try #require(failed.id))
                #expect(document["status"] as? String == "failed")
                #expect((document["failure_reason"] as? String)?.contains("PDF") == true, "\(document)")

                let text = String(repeating: "quota ", count: 166) + "done"  // 1,000 bytes
                let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                    for index in 0..<100 {
                        group.addTask {
                            try await IngestHarness.paste(client, owner: owner, widget: widget, title: "Doc \(index)", text: text).status
                        }
                    }
                    return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
                }
                #expect(statuses.filter { $0 == .accepted }.count == 10, "\(statuses)")
                #expect(statuses.filter { $0 == .forbidden }.count == 90)
                let refusal = try await IngestHarness.paste(client, owner: owner, widget: widget, title: "One more", text: text)
                #expect(refusal.status == .forbidden && refusal.body.contains("quota-exceeded") && refusal.body.contains("10000"), "\(refusal.body)")

                // Re-indexing the failed PDF would need its 4,009 bytes again: refused while full.
                let reindex = try await IngestHarness.send(client, "/v1/documents/\(failed.id!)/reindex", method: .post, owner: owner)
                #expect(reindex.status == .forbidden, "\(reindex.body)")
                // Deleting a document frees its bytes at once.
                let list = try await IngestHarness.send(client, "/v1/documents", owner: owner)
                let victim = try #require((list.json["documents"] as? [[String: Any]])?.first { $0["status"] as? String != "failed" }?["id"] as? String)
                #expect(try await IngestHarness.send(client, "/v1/documents/\(victim)", method: .delete, owner: owner).status == .noContent)
                #expect(try await IngestHarness.send(client, "/v1/documents/\(victim)", owner: owner).status == .notFound)
                #expect(try await IngestHarness.paste(client, owner: owner, widget: widget, title: "Fits", text: text).status == .accepted)
            }
            let bytes = try await database.withConnection(database.adminURL) { connection in
                try await connection.query("""
                    SELECT coalesce(sum(byte_size) FILTER (WHERE status <> 'failed'), 0)::int, count(*)::int,
                           (SELECT count(*)::int FROM ingest.document_sources) FROM ingest.documents
                    """, logger: Logger(label: "test")).collect().first?.decode((Int, Int, Int).self)
            }
            #expect(bytes?.0 == 10_000 && bytes?.1 == 11 && bytes?.2 == 11, "\(String(describing: bytes))")
        }
    }

    @Test func aPaidPlansLimitComesFromIngestsCopyOfTheEntitlements() async throws {
        try await withTestDatabase { database in
            let owner = UUID()
            try await database.withConnection(database.adminURL) { connection in
                try await connection.query("""
                    INSERT INTO ingest.tenant_entitlements (owner_id, plan, status, widgets, messages_per_month, knowledge_bytes, revision)
                    VALUES (\(owner), 'starter', 'active', 3, 2000, 1500, 1)
                    """, logger: Logger(label: "test"))
            }
            try await IngestHarness.app(database).test(.router) { client in
                let first = try await IngestHarness.paste(client, owner: owner, widget: UUID(), title: "A", text: String(repeating: "a", count: 1000))
                let second = try await IngestHarness.paste(client, owner: owner, widget: UUID(), title: "B", text: String(repeating: "b", count: 1000))
                #expect(first.status == .accepted && second.status == .forbidden)
                let usage = try await IngestHarness.send(client, "/v1/documents", owner: owner).json["usage"] as? [String: Any]
                #expect(usage?["bytes_limit"] as? Int == 1500 && usage?["bytes_used"] as? Int == 1000)
            }
        }
    }

    @Test func searchNeverCrossesTenantsEvenOnTheSameWidgetID() async throws {
        try await withTestDatabase { database in
            let alice = UUID(), mallory = UUID(), widget = UUID()
            try await IngestHarness.app(database).test(.router) { client in
                _ = try await IngestHarness.paste(client, owner: alice, widget: widget, title: "Alice", text: "The vault code is 4921. Alice's secret.")
                _ = try await IngestHarness.paste(client, owner: mallory, widget: widget, title: "Mallory", text: "Mallory asks for the vault code.")
                try await IngestHarness.settle(database)
                let asMallory = try await IngestHarness.search(client, owner: mallory, widget: widget, query: "vault code secret 4921")
                #expect(asMallory.map(\.documentTitle) == ["Mallory"])
                #expect(!asMallory.contains { $0.text.contains("4921") })
                let asAlice = try await IngestHarness.search(client, owner: alice, widget: widget, query: "vault code")
                #expect(asAlice.map(\.documentTitle) == ["Alice"])
                let other = try await IngestHarness.send(client, "/v1/documents", owner: mallory)
                #expect(!other.body.contains("Alice"))
            }
            // The service's own role sees no chunk without a tenant, and only the tenant's with one.
            let counts = try await database.withConnection(database.roleURL("contexo_ingest")) { connection in
                let none = try await connection.query("SELECT count(*)::int FROM ingest.chunks", logger: Logger(label: "test"))
                    .collect().first?.decode(Int.self)
                try await connection.query("BEGIN", logger: Logger(label: "test"))
                try await connection.enterTenant(TestStack.ticket(for: mallory), logger: Logger(label: "test"))
                let own = try await connection.query("SELECT count(*)::int, bool_and(owner_id = \(mallory)) FROM ingest.chunks",
                                                     logger: Logger(label: "test")).collect().first?.decode((Int, Bool).self)
                try await connection.query("ROLLBACK", logger: Logger(label: "test"))
                return (none, own)
            }
            #expect(counts.0 == 0)
            #expect(counts.1?.0 == 1 && counts.1?.1 == true)
        }
    }

    @Test func badUploadsGetClearProblemsAndStoreNothing() async throws {
        try await withTestDatabase { database in
            let owner = UUID(), widget = UUID()
            try await IngestHarness.app(database, maximumDocumentBytes: 4096).test(.router) { client in
                let image = try await IngestHarness.upload(client, owner: owner, widget: widget, title: "x", contentType: "image/png", body: Data([1, 2]))
                #expect(image.status == .unsupportedMediaType && image.body.contains("media-type"))
                let big = try await IngestHarness.upload(client, owner: owner, widget: widget, title: "x", contentType: "text/plain",
                                                         body: Data(repeating: 0x61, count: 5000))
                #expect(big.status == .contentTooLarge, "\(big.body)")
                let noWidget = try await IngestHarness.send(client, "/v1/documents", method: .post, owner: owner, contentType: "text/plain", body: Data("hi".utf8))
                #expect(noWidget.status == .unprocessableContent && noWidget.body.contains("widget_id"))
                let badWidget = try await IngestHarness.send(client, "/v1/documents?widget_id=nope", method: .post, owner: owner,
                                                             contentType: "text/plain", body: Data("hi".utf8))
                #expect(badWidget.status == .unprocessableContent)
                let empty = try await IngestHarness.paste(client, owner: owner, widget: widget, title: "x", text: "   ")
                #expect(empty.status == .unprocessableContent && empty.body.contains("text"))
                let longTitle = try await IngestHarness.paste(client, owner: owner, widget: widget, title: String(repeating: "t", count: 501), text: "hi")
                #expect(longTitle.status == .unprocessableContent && longTitle.body.contains("title"))
                let broken = try await IngestHarness.send(client, "/v1/documents", method: .post, owner: owner,
                                                          contentType: "multipart/form-data; boundary=abc", body: Data("garbage".utf8))
                #expect(broken.status == .badRequest)
                let noFile = try await IngestHarness.send(
                    client, "/v1/documents", method: .post, owner: owner, contentType: "multipart/form-data; boundary=b",
                    body: Data("--b\r\nContent-Disposition: form-data; name=\"widget_id\"\r\n\r\n\(widget)\r\n--b--\r\n".utf8))
                #expect(noFile.status == .unprocessableContent && noFile.body.contains("file"), "\(noFile.body)")
                let list = try await IngestHarness.send(client, "/v1/documents", owner: owner)
                #expect((list.json["documents"] as? [Any])?.isEmpty == true)
                let badSearch = try await IngestHarness.send(client, "/internal/search", method: .post, owner: owner, contentType: "application/json",
                                                             body: Data(#"{"widget_id":"\#(widget)","query":"x","limit":500}"#.utf8))
                #expect(badSearch.status == .unprocessableContent && badSearch.body.contains("limit"))
            }
        }
    }

    @Test func reindexingRebuildsTheChunksAndDeletingRemovesThem() async throws {
        try await withTestDatabase { database in
            let owner = UUID(), widget = UUID()
            try await IngestHarness.app(database).test(.router) { client in
                let document = try #require(try await IngestHarness.paste(client, owner: owner, widget: widget, title: "Returns",
                                                                          text: Self.markdown, format: "markdown").id)
                try await IngestHarness.settle(database)
                let before = try await IngestHarness.search(client, owner: owner, widget: widget, query: "refund")
                let reindexed = try await IngestHarness.send(client, "/v1/documents/\(document)/reindex", method: .post, owner: owner)
                #expect(reindexed.status == .accepted && reindexed.json["status"] as? String == "queued")
                try await IngestHarness.settle(database)
                let after = try await IngestHarness.search(client, owner: owner, widget: widget, query: "refund")
                #expect(after.map(\.text) == before.map(\.text) && !after.isEmpty)
                #expect(Set(after.map(\.chunkID)).isDisjoint(with: before.map(\.chunkID)), "chunks were rebuilt, not duplicated")
                #expect(try await IngestHarness.send(client, "/v1/documents/\(document)", method: .delete, owner: owner).status == .noContent)
                #expect(try await IngestHarness.search(client, owner: owner, widget: widget, query: "refund").isEmpty)
                #expect(try await IngestHarness.send(client, "/v1/documents/\(UUID())/reindex", method: .post, owner: owner).status == .notFound)
            }
        }
    }
}
