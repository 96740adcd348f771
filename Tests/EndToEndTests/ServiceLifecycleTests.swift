import AsyncHTTPClient
import Foundation
import Platform
import Testing
import TestSupport

/// The real executables: start-up, readiness, traceable builds, JSON logs, graceful shutdown and
/// restarting one service while the others keep serving.
@Suite(.serialized, .timeLimit(.minutes(5))) struct ServiceLifecycleTests {
    @Test func allFourServicesStartBecomeReadyAndRestartOneAtATime() async throws {
        try await withTestDatabase { database in
            let stack = LocalStack(database: database)
            defer { stack.stopAll() }
            try stack.startAll()
            for service in LocalStack.services {
                let ready = await stack.waitReady(service)
                #expect(ready, "\(service) never became ready:\n\(stack.process(service).output().suffix(2000))")
            }

            // Deploys are traceable: every service reports its version and commit.
            for service in LocalStack.services {
                let version = try await stack.body(service, "/version")
                #expect(version.contains(#""commit":"e2e0commit""#), "\(service): \(version)")
            }

            // The business routes of the internal services refuse anyone but the gateway.
            for service in ["chat", "ingest", "billing"] {
                let path = ["chat": "/v1/widgets", "ingest": "/v1/documents", "billing": "/v1/billing/entitlements"][service]!
                #expect(await stack.status(service, path) == 401)
                #expect(await stack.status(service, path, headers: [(InternalTokenVerifier.header, "forged.token.value")]) == 401)
            }

            // Through the real gateway: a development token, then a dashboard call forwarded to chat with
            // an internal token, across three processes.
            let customer = UUID()
            let (minted, tokenBody) = try await stack.post("gateway", "/dev/token", json: #"{"customer_id":"\#(customer.uuidString)"}"#)
            #expect(minted == 200, "\(tokenBody)")
            let token = try #require(try JSONSerialization.jsonObject(with: Data(tokenBody.utf8)) as? [String: Any])["token"] as? String
            #expect(await stack.status("gateway", "/v1/widgets") == 401)
            let widgets = try await stack.body("gateway", "/v1/widgets", headers: [("Authorization", "Bearer \(token ?? "")")])
            #expect(widgets == #"{"widgets":[]}"#)

            // Structured JSON logs carry the request id.
            _ = await stack.status("chat", "/v1/widgets", headers: [("X-Request-Id", "e2e-trace-7")])
            try await Task.sleep(for: .milliseconds(200))
            let line = try #require(stack.process("chat").output().split(separator: "\n").first { $0.contains("e2e-trace-7") })
            let fields = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(fields["request_id"] as? String == "e2e-trace-7")
            #expect(fields["service"] as? String == "chat")

            // SIGTERM stops one service with exit 0 within 10 s; the others stay ready.
            let started = ContinuousClock.now
            stack.process("chat").signal(SIGTERM)
            let status = await stack.process("chat").waitForExit(timeout: .seconds(10))
            #expect(status == 0, "chat exit status: \(String(describing: status))\n\(stack.process("chat").output().suffix(2000))")
            #expect(ContinuousClock.now - started < .seconds(10))
            for service in ["gateway", "ingest", "billing"] {
                #expect(await stack.status(service, "/readyz") == 200, "\(service) lost readiness while chat restarted")
            }
            #expect(await stack.status("chat", "/healthz") == nil)

            // Started again, it becomes ready again.
            try stack.start("chat")
            #expect(await stack.waitReady("chat"))

            // SIGINT is a graceful signal too.
            stack.process("billing").signal(SIGINT)
            #expect(await stack.process("billing").waitForExit(timeout: .seconds(10)) == 0)
        }
    }

    @Test func aServiceWithMissingConfigurationExitsNamingEveryVariable() async throws {
        let process = try ServiceProcess(binary: "contexo-chat", port: 0, environment: [
            "CONTEXO_INTERNAL_TOKEN_SECRET": "too-short-secret", "CONTEXO_HTTP_PORT": "not-a-port",
        ])
        let status = await process.waitForExit(timeout: .seconds(10))
        #expect(status == 78)
        let output = process.output()
        for variable in ["CONTEXO_DATABASE_URL", "CONTEXO_REDIS_URL", "CONTEXO_INTERNAL_TOKEN_SECRET", "CONTEXO_HTTP_PORT"] {
            #expect(output.contains(variable), "missing \(variable) in: \(output)")
        }
        #expect(!output.contains("too-short-secret"))

        let gateway = try ServiceProcess(binary: "contexo-gateway", port: 0, environment: [:])
        #expect(await gateway.waitForExit(timeout: .seconds(10)) == 78)
        #expect(gateway.output().contains("CONTEXO_CHAT_URL"))
    }

    @Test func inFlightRequestsFinishDuringShutdown() async throws {
        try await withTestDatabase { database in
            let stack = LocalStack(database: database)
            defer { stack.stopAll() }
            try stack.start("ingest")
            #expect(await stack.waitReady("ingest"))
            // Open many requests, signal mid-flight: every request that was accepted gets an answer.
            async let answers: [Int?] = withTaskGroup(of: Int?.self) { group in
                for _ in 0..<50 { group.addTask { await stack.status("ingest", "/readyz") } }
                var all: [Int?] = []
                for await status in group { all.append(status) }
                return all
            }
            try await Task.sleep(for: .milliseconds(5))
            stack.process("ingest").signal(SIGTERM)
            let results = await answers
            #expect(await stack.process("ingest").waitForExit(timeout: .seconds(10)) == 0)
            // Accepted requests were answered 200; the rest were refused at connect, none hung or got a 5xx.
            #expect(results.allSatisfy { $0 == nil || $0 == 200 }, "\(results)")
        }
    }
}
