import AsyncHTTPClient
import Foundation
import NIOCore
import Platform

/// `scripts/fake-supabase-auth.py` (the same stand-in `scripts/dev` runs), started for a test on a
/// free port: Supabase Auth's REST wire format, issuing HS256 access tokens with `jwtSecret`.
public final class FakeSupabaseAuth: @unchecked Sendable {
    public static let anonKey = "test-anon-key-0123456789"
    public static let secretKey = "test-secret-key-0123456789abcdef"
    public let jwtSecret: String
    public let port: Int
    private let process: ChildProcess

    /// Supabase Auth's base URL, as the services are configured with it.
    public var authURL: URL { URL(string: "http://127.0.0.1:\(port)/auth/v1")! }

    /// Starts the fake and waits until it answers.
    public init(jwtSecret: String) async throws {
        let stack = try TestStack.current()
        self.jwtSecret = jwtSecret
        port = freePort()
        process = try ChildProcess("/usr/bin/env", [
            "python3", stack.repository.appendingPathComponent("scripts/fake-supabase-auth.py").path,
            "--port", String(port), "--jwt-secret", jwtSecret, "--anon-key", Self.anonKey, "--secret-key", Self.secretKey,
        ])
        for _ in 0..<100 {
            if (try? await call("GET", "/settings")) != nil { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        _ = process.stop()
        throw Unavailable()
    }

    public struct Unavailable: Error {}

    /// A call with the public key; returns the status and the JSON body (nil when empty).
    public func call(_ method: String, _ path: String, json: String? = nil, bearer: String? = nil,
                     key: String = FakeSupabaseAuth.anonKey) async throws -> (status: Int, body: [String: Any]?) {
        var request = HTTPClientRequest(url: authURL.absoluteString + path)
        request.method = .init(rawValue: method)
        request.headers.add(name: "apikey", value: key)
        if let bearer { request.headers.add(name: "Authorization", value: "Bearer \(bearer)") }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        let body = bytes.readableBytes == 0 ? nil : try JSONSerialization.jsonObject(with: Data(buffer: bytes)) as? [String: Any]
        return (Int(response.status.code), body)
    }

    /// Signs up (e-mail confirmation is off, as in `scripts/dev`): the new user's id and access token.
    public func signUp(email: String, password: String = "correct horse battery") async throws -> (id: UUID, accessToken: String) {
        let (status, body) = try await call("POST", "/signup", json: #"{"email":"\#(email)","password":"\#(password)"}"#)
        guard status == 200, let token = body?["access_token"] as? String,
              let id = ((body?["user"] as? [String: Any])?["id"] as? String).flatMap(UUID.init(uuidString:)) else {
            throw Unexpected(status: status, body: body.map { "\($0)" } ?? "")
        }
        return (id, token)
    }

    /// Makes the next `count` calls whose path starts with `pathPrefix` fail with `status`.
    public func injectFault(pathPrefix: String, status: Int, count: Int = 1) async throws {
        _ = try await call("POST", "/__fake/faults", json: #"{"path_prefix":"\#(pathPrefix)","status":\#(status),"count":\#(count)}"#,
                           key: Self.secretKey)
    }

    public struct Unexpected: Error {
        public let status: Int
        public let body: String
    }

    deinit { _ = process.stop() }
}
