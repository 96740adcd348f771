import Contract
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Platform

@Suite(.timeLimit(.minutes(5))) struct ServiceRouterTests {
    struct Down: Error {}

    func makeApp(readiness: [DependencyCheck], verifier: InternalTokenVerifier? = nil) -> some ApplicationProtocol {
        let routing = ServiceRouter(build: BuildInfo(service: "chat", commit: "abc123"), readiness: readiness, verifier: verifier)
        routing.businessRoutes.get("/v1/echo") { _, context -> String in
            context.caller?.customerID?.uuidString ?? "anonymous"
        }
        routing.businessRoutes.get("/v1/boom") { _, _ -> String in throw Down() }
        routing.businessRoutes.get("/v1/things/{id}") { _, _ -> String in "thing" }
        routing.businessRoutes.delete("/v1/things/{id}") { _, _ -> HTTPResponse.Status in .noContent }
        routing.sealRoutes()
        return Application(router: routing.router)
    }

    /// A served path asked with a method it does not take is a 405 that names the methods it
    /// does take (review finding 9), and an unknown path stays a 404.
    @Test func aWrongMethodIsA405WithAllow() async throws {
        try await makeApp(readiness: []).test(.router) { client in
            let wrong = try await client.execute(uri: "/v1/things/42", method: .post) {
                ($0.status, $0.headers[.allow], $0.headers[.contentType], String(buffer: $0.body))
            }
            #expect(wrong.0 == .methodNotAllowed)
            #expect(wrong.1 == "DELETE, GET")
            #expect(wrong.2 == "application/problem+json" && wrong.3.contains("method-not-allowed"))
            let health = try await client.execute(uri: "/healthz", method: .put) { ($0.status, $0.headers[.allow]) }
            #expect(health.0 == .methodNotAllowed && health.1 == "GET")
            #expect(try await client.execute(uri: "/v1/things/42", method: .delete) { $0.status } == .noContent)
            #expect(try await client.execute(uri: "/v1/nothing/here", method: .post) { $0.status } == .notFound)
            #expect(try await client.execute(uri: "/v1/things/42/more", method: .get) { $0.status } == .notFound)
        }
    }

    @Test func healthAndVersionReportTheCommit() async throws {
        try await makeApp(readiness: []).test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                let body = try JSONDecoder().decode(HealthStatus.self, from: response.body)
                #expect(body == HealthStatus(status: "ok", service: "chat", version: BuildInfo.version, commit: "abc123"))
                #expect(response.headers[RequestIDMiddleware.header]?.isEmpty == false)
            }
            try await client.execute(uri: "/version", method: .get) { response in
                let info = try JSONDecoder().decode(BuildInfo.self, from: response.body)
                #expect(info.commit == "abc123")
            }
        }
    }

    @Test func readinessNamesWhatIsDownAsAProblem() async throws {
        let checks = [
            DependencyCheck(name: "redis") {},
            DependencyCheck(name: "postgres") { throw Down() },
            DependencyCheck(name: "hang") { try await Task.sleep(for: .seconds(30)) },
        ]
        let started = ContinuousClock.now
        try await makeApp(readiness: checks).test(.router) { client in
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.contentType] == "application/problem+json")
                let problem = try JSONDecoder().decode(Problem.self, from: response.body)
                #expect(problem.extensions?["down"] == ["hang", "postgres"])
                #expect(problem.requestID == response.headers[RequestIDMiddleware.header])
            }
        }
        // The hanging check was cut off, not waited for (30 s); generous for loaded 2-core machines.
        #expect(ContinuousClock.now - started < .seconds(20))
    }

    @Test func readyWhenEveryDependencyAnswers() async throws {
        try await makeApp(readiness: [DependencyCheck(name: "redis") {}]).test(.router) { client in
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test func metricsCountRequestsByRouteAndStatus() async throws {
        try await makeApp(readiness: []).test(.router) { client in
            for _ in 0..<3 { try await client.execute(uri: "/healthz", method: .get) { _ in } }
            try await client.execute(uri: "/no/such/path", method: .get) { _ in }
            try await client.execute(uri: "/metrics", method: .get) { response in
                let text = String(buffer: response.body)
                #expect(text.contains(#"contexo_http_requests_total{route="/healthz",method="GET",status="200"} 3"#))
                #expect(text.contains(#"contexo_http_requests_total{route="unmatched",method="GET",status="404"} 1"#))
                #expect(text.contains("contexo_http_request_duration_seconds_bucket"))
                #expect(text.contains(#"contexo_build_info{service="chat",version="\#(BuildInfo.version)",commit="abc123"} 1"#))
            }
        }
    }

    @Test func errorsAreProblemsWithTheCallersRequestID() async throws {
        try await makeApp(readiness: []).test(.router) { client in
            try await client.execute(uri: "/nowhere", method: .get, headers: [RequestIDMiddleware.header: "trace-42"]) { response in
                #expect(response.status == .notFound)
                #expect(response.headers[.contentType] == "application/problem+json")
                #expect(response.headers[RequestIDMiddleware.header] == "trace-42")
                let problem = try JSONDecoder().decode(Problem.self, from: response.body)
                #expect(problem.type == Problem.typeBase + "not-found")
                #expect(problem.requestID == "trace-42")
            }
            try await client.execute(uri: "/v1/boom", method: .get, headers: [RequestIDMiddleware.header: "bad id with spaces"]) { response in
                #expect(response.status == .internalServerError)
                let id = try #require(response.headers[RequestIDMiddleware.header])
                #expect(id != "bad id with spaces")
                let text = String(buffer: response.body)
                #expect(!text.contains("Down"))
                #expect(text.contains(id))
            }
        }
    }

    @Test func businessRoutesAnswerOnlyTheGateway() async throws {
        let secret = String(repeating: "g", count: 32)
        let verifier = await InternalTokenVerifier(secret: secret, service: .chat)
        let issuer = await InternalTokenIssuer(secret: secret)
        let customer = UUID()
        let good = try await issuer.token(for: .chat, customerID: customer, requestID: "r", plan: nil)
        let wrongAudience = try await issuer.token(for: .ingest, customerID: customer, requestID: "r", plan: nil)
        let header = HTTPField.Name(InternalTokenVerifier.header)!
        try await makeApp(readiness: [], verifier: verifier).test(.router) { client in
            try await client.execute(uri: "/v1/echo", method: .get) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.contentType] == "application/problem+json")
            }
            try await client.execute(uri: "/v1/echo", method: .get, headers: [header: wrongAudience]) { response in
                #expect(response.status == .unauthorized)
            }
            try await client.execute(uri: "/v1/echo", method: .get, headers: [header: good]) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == customer.uuidString)
            }
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }
}
