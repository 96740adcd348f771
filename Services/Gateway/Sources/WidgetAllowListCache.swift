import AsyncHTTPClient
import Contract
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Platform

/// Each widget's domain allow-list, read from Chat and cached; dropped the moment Chat announces a
/// change (`chat.widget.changed`, followed with ``StreamTail``), so a customer removing a domain
/// takes effect on the next request. Unknown widgets are remembered briefly too, so a flood of
/// random ids does not reach Chat. Fails closed: if Chat cannot be asked, nothing is allowed.
final class WidgetAllowListCache: Sendable {
    enum Lookup: Sendable, Equatable {
        /// The page origins the widget may run on, and its owner (whose tenant a visitor's request enters).
        case allowed([AllowedOrigin], owner: UUID)
        case unknownWidget
    }

    private struct Entry {
        var lookup: Lookup
        var expires: ContinuousClock.Instant
    }

    private let entries = NIOLockedValueBox<[UUID: Entry]>([:])
    private let httpClient: HTTPClient
    private let issuer: InternalTokenIssuer
    private let chat: URL
    private let timeToLive: Duration
    private let lookupTimeout: Duration
    private let logger: Logger

    init(httpClient: HTTPClient, issuer: InternalTokenIssuer, chat: URL, timeToLive: Duration = .seconds(60),
         lookupTimeout: Duration = .seconds(2), logger: Logger) {
        self.lookupTimeout = lookupTimeout
        self.httpClient = httpClient
        self.issuer = issuer
        self.chat = chat
        self.timeToLive = timeToLive
        self.logger = logger
    }

    func lookup(_ widget: UUID, requestID: String) async throws(Problem) -> Lookup {
        let now = ContinuousClock.now
        if let entry = entries.withLockedValue({ $0[widget] }), entry.expires > now { return entry.lookup }
        let lookup = try await fetch(widget, requestID: requestID)
        let lifetime = lookup == .unknownWidget ? min(timeToLive, .seconds(10)) : timeToLive
        entries.withLockedValue {
            if $0.count >= 100_000 { $0.removeAll(keepingCapacity: true) }
            $0[widget] = Entry(lookup: lookup, expires: now + lifetime)
        }
        return lookup
    }

    /// What is cached for `widget`, without asking Chat (nil when nothing fresh is cached).
    func cached(_ widget: UUID) -> Lookup? {
        let now = ContinuousClock.now
        return entries.withLockedValue { entries in entries[widget].flatMap { $0.expires > now ? $0.lookup : nil } }
    }

    func invalidate(_ widget: UUID) { _ = entries.withLockedValue { $0.removeValue(forKey: widget) } }

    func invalidateAll() { entries.withLockedValue { $0.removeAll() } }

    private func fetch(_ widget: UUID, requestID: String) async throws(Problem) -> Lookup {
        var target = chat.absoluteString
        while target.hasSuffix("/") { target.removeLast() }
        var request = HTTPClientRequest(url: target + "/internal/widgets/\(widget.uuidString.lowercased())/allow-list")
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            let token = try await issuer.token(for: .chat, customerID: nil, requestID: requestID, plan: nil)
            request.headers.add(name: InternalTokenVerifier.header, value: token)
            request.headers.add(name: "X-Request-Id", value: requestID)
            response = try await httpClient.execute(request, timeout: .init(lookupTimeout))
            body = try await response.body.collect(upTo: 64 * 1024)
        } catch {
            logger.warning("widget allow-list lookup failed", metadata: ["widget": "\(widget)", "error": "\(error)"])
            throw Problem.serviceUnavailable("The widget service is unavailable. Try again shortly.").with(header: "Retry-After", "1")
        }
        if response.status == .notFound { return .unknownWidget }
        struct AllowList: Decodable {
            let allowedDomains: [String]
            let ownerID: UUID
            enum CodingKeys: String, CodingKey { case allowedDomains = "allowed_domains", ownerID = "owner_id" }
        }
        guard response.status == .ok, let list = try? JSONDecoder().decode(AllowList.self, from: Data(buffer: body)) else {
            logger.warning("widget allow-list lookup refused", metadata: ["widget": "\(widget)", "status": "\(response.status.code)"])
            throw Problem.serviceUnavailable("The widget service is unavailable. Try again shortly.").with(header: "Retry-After", "1")
        }
        return .allowed(list.allowedDomains.compactMap(AllowedOrigin.init), owner: list.ownerID)
    }
}
