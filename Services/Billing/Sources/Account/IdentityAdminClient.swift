import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import Platform

/// Deletes a customer's identity through Supabase Auth's admin API
/// (`DELETE {auth}/admin/users/{id}`), with the project's secret (service-role) key. Only Billing
/// holds that key (S1.2); the gateway and the dashboard never see it.
public struct IdentityAdminClient: Sendable {
    public struct Settings: Sendable {
        /// The Auth base URL, e.g. `https://<ref>.supabase.co/auth/v1`.
        public var authURL: URL
        public var secretKey: String
        public var timeout: Duration

        public init(authURL: URL, secretKey: String, timeout: Duration = .seconds(10)) {
            self.authURL = authURL
            self.secretKey = secretKey
            self.timeout = timeout
        }
    }

    /// What became of the identity.
    public enum Outcome: String, Sendable {
        case deleted
        /// Supabase no longer knows the user (deleted before, e.g. by a first attempt).
        case alreadyGone = "already_gone"
    }

    let settings: Settings
    let httpClient: HTTPClient
    let logger: Logger

    public init(settings: Settings, httpClient: HTTPClient, logger: Logger) {
        self.settings = settings
        self.httpClient = httpClient
        self.logger = logger
    }

    /// Hard-deletes the user: its sessions and refresh tokens die with it.
    public func deleteUser(_ id: UUID) async throws(Problem) -> Outcome {
        var base = settings.authURL.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        var request = HTTPClientRequest(url: base + "/admin/users/\(id.uuidString.lowercased())")
        request.method = .DELETE
        request.headers.add(name: "apikey", value: settings.secretKey)
        request.headers.add(name: "Authorization", value: "Bearer \(settings.secretKey)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "X-Supabase-Api-Version", value: "2024-01-01")
        request.body = .bytes(ByteBuffer(string: #"{"should_soft_delete":false}"#))
        let response: HTTPClientResponse
        let bytes: ByteBuffer
        do {
            response = try await httpClient.execute(request, timeout: .init(settings.timeout))
            bytes = try await response.body.collect(upTo: 64 * 1024)
        } catch {
            logger.warning("Supabase Auth unreachable", metadata: ["error": "\(error)"])
            throw Self.unavailable("The sign-in provider did not answer; the account is not deleted yet. Try again.")
        }
        let status = response.status.code
        if (200..<300).contains(status) { return .deleted }
        let code = Self.errorCode(Data(buffer: bytes))
        if status == 404, code == "user_not_found" { return .alreadyGone }
        logger.error("Supabase Auth refused to delete a user", metadata: ["status": "\(status)", "code": "\(code ?? "-")"])
        if status >= 500 || status == 429 {
            throw Self.unavailable("The sign-in provider could not delete the identity right now. Try again shortly.")
        }
        throw Problem(status: .badGateway, slug: "identity-provider", title: "Identity Provider Error",
                      detail: "The sign-in provider refused to delete the identity (HTTP \(status)\(code.map { ", \($0)" } ?? "")).")
    }

    /// GoTrue's error code, read the way supabase-js does: `code` when a string, else `error_code`,
    /// else `error`.
    static func errorCode(_ body: Data) -> String? {
        guard let json = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else { return nil }
        return json["code"] as? String ?? json["error_code"] as? String ?? json["error"] as? String
    }

    static func unavailable(_ detail: String) -> Problem {
        Problem(status: .serviceUnavailable, slug: "identity-provider-unavailable", title: "Identity Provider Unavailable",
                detail: detail, headers: ["Retry-After": "10"])
    }
}
