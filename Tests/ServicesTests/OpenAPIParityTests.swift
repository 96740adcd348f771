import Billing
import Chat
import Foundation
import Hummingbird
import HTTPTypes
import HummingbirdTesting
import Ingest
import Logging
import Platform
import Testing
import TestSupport
@testable import Gateway

/// The OpenAPI document (Services/Gateway/Public/openapi.json) against the code: every route the
/// public can reach through the gateway is described, every described operation is served, and no
/// service route outside `/internal/` is left unreachable.
@Suite(.timeLimit(.minutes(5))) struct OpenAPIParityTests {
    typealias Route = ServiceApplication.Route

    /// Path namespaces the gateway forwards to the services (everything else it serves itself).
    static let forwardedNamespaces = ["/v1/", "/widget/v1/", "/webhooks/"]
    static let operational: Set<String> = ["/healthz", "/readyz", "/metrics", "/version"]
    /// Routes under `/v1/` the gateway answers itself (composing from several services).
    static let gatewayOwned: Set<String> = [
        "/v1/account", "/v1/account/audit", "/v1/account/export", "/v1/account/exports/{id}", "/v1/account/exports/{id}/archive",
    ]

    @Test func theDocumentDescribesExactlyTheRoutesTheGatewayServes() async throws {
        try await withTestDatabase { database in
            let applications = try await Self.applications(database)
            let described = try Self.documentedOperations()

            let upstream = applications.services.flatMap { $0.routes }
                .filter { $0.method != "OPTIONS" && !Self.operational.contains($0.path) && !$0.path.hasPrefix("/internal/") }
            // The dashboard's static files (`/app/…`) are pages, not API; its config.json is described.
            let gateway = applications.gateway.routes.filter {
                $0.method != "OPTIONS" && ($0.path == "/app/config.json" || !($0.path == "/app" || $0.path.hasPrefix("/app/")))
            }
            let unreachable = upstream.filter { route in !gateway.contains { Self.pattern($0, matches: route) } }
            #expect(unreachable.isEmpty, "service routes the gateway does not forward: \(unreachable)")

            let own = gateway.filter { route in
                !Self.forwardedNamespaces.contains { route.path.hasPrefix($0) } || Self.gatewayOwned.contains(route.path)
            }
            let served = Set((own + upstream).map(Self.normalized))
            let undocumented = served.subtracting(described).sorted { $0.description < $1.description }
            let unserved = described.subtracting(served).sorted { $0.description < $1.description }
            #expect(undocumented.isEmpty, "served but missing from openapi.json: \(undocumented)")
            #expect(unserved.isEmpty, "in openapi.json but not served: \(unserved)")
            #expect(served.count >= 25, "the document describes too little: \(served.count) operations")
        }
    }

    @Test func theGatewayServesTheDocument() async throws {
        let gateway = try await GatewayTests().gateway(upstreamPort: 9)
        let file = try Data(contentsOf: URL(fileURLWithPath: GatewayConfiguration.defaultOpenAPIFile))
        try await gateway.test(.router) { client in
            let etag = try await client.execute(uri: "/openapi.json", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json")
                #expect(response.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
                #expect(Data(buffer: response.body) == file)
                let document = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
                #expect(document?["openapi"] as? String == "3.1.0")
                return response.headers[.eTag]
            }
            let revalidation: HTTPFields = [.ifNoneMatch: try #require(etag)]
            try await client.execute(uri: "/openapi.json", method: .get, headers: revalidation) { response in
                #expect(response.status == .notModified)
            }
        }
    }

    // MARK: Helpers

    struct Applications {
        var gateway: ServiceApplication
        var services: [ServiceApplication]
    }

    /// The four services as they are built for production (development mode, so `/dev/token` is
    /// there too), each started and stopped once so its clients shut down cleanly.
    static func applications(_ database: TestDatabase) async throws -> Applications {
        let logger = Logger(label: "test.openapi")
        let chat = try await Chat.buildApplication(configuration: ChatHarness.configuration(database, ingestPort: 9), logger: logger)
        let ingest = try await Ingest.buildApplication(configuration: await IngestHarness.configuration(database), logger: logger)
        let billing = try await Billing.buildApplication(
            configuration: try BillingHarness(database: database).configuration(lemonPort: 9), logger: logger)
        // With a scraper token, as production runs it: without one the gateway serves no /metrics.
        let gateway = try await GatewayTests().gateway(upstreamPort: 9) { $0.service.metricsToken = String(repeating: "m", count: 32) }
        for application: ServiceApplication in [chat, ingest, billing, gateway] {
            try await application.test(.router) { _ in }
        }
        return Applications(gateway: gateway, services: [chat, ingest, billing])
    }

    /// Every `(method, path)` in the document, with parameters written `{}`.
    static func documentedOperations() throws -> Set<Route> {
        let data = try Data(contentsOf: URL(fileURLWithPath: GatewayConfiguration.defaultOpenAPIFile))
        let document = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        let methods: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]
        return Set(paths.flatMap { path, item in
            item.keys.filter(methods.contains).map { normalized(Route(method: $0.uppercased(), path: path)) }
        })
    }

    /// `{widget_id}` and `{id}` are the same route.
    static func normalized(_ route: Route) -> Route {
        Route(method: route.method, path: segments(route.path).map { $0.hasPrefix("{") ? "{}" : $0 }.joined(separator: "/").prepending("/"))
    }

    /// Whether the gateway route `pattern` forwards requests for the service route `route`.
    static func pattern(_ pattern: Route, matches route: Route) -> Bool {
        guard pattern.method == route.method else { return false }
        let expected = segments(pattern.path), actual = segments(route.path)
        for (index, element) in expected.enumerated() {
            if element == "**" { return actual.count > index }
            guard index < actual.count else { return false }
            if element.hasPrefix("{") { continue }
            if element != actual[index] { return false }
        }
        return expected.count == actual.count
    }

    static func segments(_ path: String) -> [String] { path.split(separator: "/").map(String.init) }
}

private extension String {
    func prepending(_ prefix: String) -> String { prefix + self }
}
