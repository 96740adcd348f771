import AsyncHTTPClient
import Contract
import Foundation
import NIOCore
import Platform

/// `scripts/webhook-receiver.py` started for a test: a customer's HTTPS receiver that checks each
/// delivery's signature the way the API documentation tells customers to (in Python, so the
/// check is not Contexo's own code), answers with a status the test sets, and reports what came.
public final class WebhookReceiver: @unchecked Sendable {
    /// One delivery as the receiver recorded it.
    public struct Delivery: Decodable, Sendable {
        public var verified: Bool
        public var idempotencyKey: String
        public var duplicate: Bool
        public var eventType: String?
        public var attempt: String?
        public var answered: Int
        public var signature: String?
        public var path: String
        public var body: JSONValue?

        enum CodingKeys: String, CodingKey {
            case verified, duplicate, attempt, answered, body, signature, path
            case idempotencyKey = "idempotency_key"
            case eventType = "event_type"
        }

        /// `body.data` as a JSON value.
        public var data: JSONValue? {
            if case .object(let object)? = body { return object["data"] }
            return nil
        }
    }

    public let port: Int
    public let controlPort: Int
    /// The receiver's certificate, which Chat must trust (`CONTEXO_WEBHOOKS_CA_FILE`).
    public let certificateFile: String
    private let directory: URL
    private let process: ChildProcess

    /// The address to register: `https://127.0.0.1:<port>/<path>`.
    public func url(_ path: String = "hooks") -> String { "https://127.0.0.1:\(port)/\(path)" }

    public init() async throws {
        let stack = try TestStack.current()
        port = freePort()
        controlPort = freePort()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("contexo-webhooks-\(UUID().uuidString)")
        certificateFile = directory.appendingPathComponent("cert.pem").path
        process = try ChildProcess("/usr/bin/env", [
            "python3", stack.repository.appendingPathComponent("scripts/webhook-receiver.py").path,
            "--port", String(port), "--control-port", String(controlPort), "--dir", directory.path,
        ])
        for _ in 0..<200 {
            if (try? await control("GET", "/received")) != nil { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        _ = process.stop()
        throw FakeSupabaseAuth.Unavailable()
    }

    /// The secrets to check signatures with (an endpoint's, after rotation both).
    public func accept(secrets: [String]) async throws {
        let body = try JSONSerialization.data(withJSONObject: ["secrets": secrets])
        _ = try await control("POST", "/secrets", body: body)
    }

    /// Answers every delivery with `status` from now on (200: check signatures and accept).
    public func answer(_ status: Int) async throws {
        _ = try await control("POST", "/mode", body: Data(#"{"status": \#(status)}"#.utf8))
    }

    /// Everything received so far, in order.
    public func received() async throws -> [Delivery] {
        struct List: Decodable { var deliveries: [Delivery] }
        return try JSONDecoder().decode(List.self, from: try await control("GET", "/received")).deliveries
    }

    /// Waits until `condition` holds for what was received; what was received then.
    public func waitFor(timeout: Duration = .seconds(30), _ condition: ([Delivery]) -> Bool) async throws -> [Delivery] {
        let deadline = ContinuousClock.now + timeout
        var last: [Delivery] = []
        while ContinuousClock.now < deadline {
            last = try await received()
            if condition(last) { return last }
            try await Task.sleep(for: .milliseconds(100))
        }
        return last
    }

    private func control(_ method: String, _ path: String, body: Data? = nil) async throws -> Data {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(controlPort)\(path)")
        request.method = .init(rawValue: method)
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        let data = Data(buffer: try await response.body.collect(upTo: 32 << 20))
        guard response.status == .ok else { throw FakeSupabaseAuth.Unavailable() }
        return data
    }

    deinit {
        _ = process.stop()
        try? FileManager.default.removeItem(at: directory)
    }
}
