import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import Ingest
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Testing
import TestSupport

/// Web pages and crawls through Ingest's API into searchable chunks, against a local site; and the
/// SSRF refusals a production configuration gives at the door (S8.3).
@Suite(.timeLimit(.minutes(5))) struct WebIngestionTests {
    /// A small site that records which paths were requested.
    static func site(_ requested: NIOLockedValueBox<[String]>) -> Router<BasicRequestContext> {
        let pages: [String: (String, String)] = [
            "/robots.txt": ("text/plain", "User-agent: *\nDisallow: /private\n"),
            "/": ("text/html", #"<html><head><title>Acme help</title></head><body><nav>Menu</nav><h1>Help</h1><p>Start here.</p><a href="/warranty.html">Warranty</a> <a href="/shipping.html">Shipping</a> <a href="/private/notes.html">Notes</a> <a href="https://elsewhere.invalid/x">Elsewhere</a></body></html>"#),
            "/warranty.html": ("text/html", "<html><head><title>Warranty</title></head><body><h1>Warranty</h1><p>Every tent has a five year warranty against seam failure.</p></body></html>"),
            "/shipping.html": ("text/html", "<html><head><title>Shipping</title></head><body><p>Parcels to Iceland travel by ferry and take nine days.</p></body></html>"),
            "/private/notes.html": ("text/html", "<p>Internal margin notes.</p>"),
        ]
        let router = Router()
        router.get("**") { request, _ -> Response in
            requested.withLockedValue { $0.append(request.uri.path) }
            guard let (type, body) = pages[request.uri.path] else { return Response(status: .notFound) }
            return Response(status: .ok, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        router.get("/") { request, _ -> Response in
            requested.withLockedValue { $0.append(request.uri.path) }
            let (type, body) = pages["/"]!
            return Response(status: .ok, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        return router
    }

    static func post(_ client: some TestClientProtocol, owner: UUID, _ json: [String: Any]) async throws -> IngestHarness.Reply {
        try await IngestHarness.send(client, "/v1/documents", method: .post, owner: owner, contentType: "application/json",
                                     body: try JSONSerialization.data(withJSONObject: json))
    }

    @Test func aPageAndACrawlBecomeCitedSearchableDocuments() async throws {
        try await withTestDatabase { database in
            let requested = NIOLockedValueBox<[String]>([])
            let owner = UUID(), widget = UUID()
            try await withLiveServer(Self.site(requested)) { port in
                try await IngestHarness.app(database, allowPrivateFetches: true).test(.router) { client in
                    let page = try await Self.post(client, owner: owner, ["widget_id": widget.uuidString, "url": "http://127.0.0.1:\(port)/warranty.html"])
                    #expect(page.status == .accepted, "\(page.body)")
                    try await IngestHarness.settle(database)
                    let document = try await IngestHarness.document(client, owner: owner, id: try #require(page.id))
                    #expect(document["status"] as? String == "ready", "\(document)")
                    #expect(document["title"] as? String == "Warranty", "the page's own title replaces its address")
                    let found = try await IngestHarness.search(client, owner: owner, widget: widget, query: "tent warranty")
                    #expect(found.first?.sourceURL == "http://127.0.0.1:\(port)/warranty.html" && found.first?.text.contains("five year") == true)

                    let crawl = try await Self.post(client, owner: owner, [
                        "widget_id": widget.uuidString, "url": "http://127.0.0.1:\(port)/", "crawl": ["max_pages": 10, "max_depth": 2]])
                    #expect(crawl.status == .accepted, "\(crawl.body)")
                    try await IngestHarness.settle(database)
                    let crawled = try await IngestHarness.document(client, owner: owner, id: try #require(crawl.id))
                    #expect(crawled["status"] as? String == "ready")
                    let detail = try #require(crawled["detail"] as? String)
                    #expect(detail.hasPrefix("3 pages queued") && detail.contains("robots.txt"), "\(detail)")
                    let list = try await IngestHarness.send(client, "/v1/documents?widget_id=\(widget)", owner: owner)
                    let documents = try #require(list.json["documents"] as? [[String: Any]])
                    let pages = documents.filter { $0["parent_id"] as? String == crawl.id?.uuidString }
                    #expect(Set(pages.compactMap { $0["source_url"] as? String }) == Set(["/", "/warranty.html", "/shipping.html"].map { "http://127.0.0.1:\(port)\($0)" }))
                    #expect(pages.allSatisfy { $0["status"] as? String == "ready" })
                    let iceland = try await IngestHarness.search(client, owner: owner, widget: widget, query: "ferry to Iceland")
                    #expect(iceland.first?.text.contains("nine days") == true, "\(iceland.map(\.text))")
                    #expect(!requested.withLockedValue { $0 }.contains { $0.hasPrefix("/private") }, "robots.txt was honoured")

                    // Run again: the pages are replaced, not doubled; deleting the crawl deletes them.
                    #expect(try await IngestHarness.send(client, "/v1/documents/\(crawl.id!)/reindex", method: .post, owner: owner).status == .accepted)
                    try await IngestHarness.settle(database)
                    let again = try await IngestHarness.send(client, "/v1/documents?widget_id=\(widget)", owner: owner)
                    #expect((again.json["documents"] as? [[String: Any]])?.count == documents.count)
                    #expect(try await IngestHarness.send(client, "/v1/documents/\(crawl.id!)", method: .delete, owner: owner).status == .noContent)
                    let after = try await IngestHarness.send(client, "/v1/documents?widget_id=\(widget)", owner: owner)
                    #expect((after.json["documents"] as? [[String: Any]])?.count == 1, "only the single page is left")
                }
            }
        }
    }

    @Test func privateAndMetadataAddressesAreRefusedAtTheDoor() async throws {
        try await withTestDatabase { database in
            let owner = UUID(), widget = UUID()
            try await IngestHarness.app(database).test(.router) { client in
                for url in ["http://127.0.0.1:9/", "http://localhost/", "http://169.254.169.254/latest/meta-data/", "http://10.0.0.5/",
                            "http://[::1]/", "http://[::ffff:127.0.0.1]/"] {
                    let reply = try await Self.post(client, owner: owner, ["widget_id": widget.uuidString, "url": url])
                    #expect(reply.status == .unprocessableContent, "\(url): \(reply.body)")
                    #expect(reply.body.contains("url"), "\(url)")
                }
                for url in ["ftp://example.com/file", "file:///etc/passwd", "not a url"] {
                    let reply = try await Self.post(client, owner: owner, ["widget_id": widget.uuidString, "url": url])
                    #expect(reply.status == .unprocessableContent, "\(url): \(reply.body)")
                }
                let crawl = try await Self.post(client, owner: owner, ["widget_id": widget.uuidString, "url": "https://example.com/",
                                                                       "crawl": ["max_pages": 1000]])
                #expect(crawl.status == .unprocessableContent && crawl.body.contains("max_pages"))
                let list = try await IngestHarness.send(client, "/v1/documents", owner: owner)
                #expect((list.json["documents"] as? [Any])?.isEmpty == true)
            }
        }
    }

    @Test func aFetchedPageMustFitTheStorageLimit() async throws {
        try await withTestDatabase { database in
            let requested = NIOLockedValueBox<[String]>([])
            let owner = UUID(), widget = UUID()
            try await withLiveServer(Self.site(requested)) { port in
                try await IngestHarness.app(database, freeKnowledgeBytes: 50, allowPrivateFetches: true).test(.router) { client in
                    let page = try await Self.post(client, owner: owner, ["widget_id": widget.uuidString, "url": "http://127.0.0.1:\(port)/warranty.html"])
                    #expect(page.status == .accepted)
                    try await IngestHarness.settle(database)
                    let document = try await IngestHarness.document(client, owner: owner, id: try #require(page.id))
                    #expect(document["status"] as? String == "failed")
                    #expect((document["failure_reason"] as? String)?.contains("knowledge storage") == true, "\(document)")
                    let usage = try await IngestHarness.send(client, "/v1/documents", owner: owner).json["usage"] as? [String: Any]
                    #expect(usage?["bytes_used"] as? Int == 0)
                }
            }
        }
    }
}
