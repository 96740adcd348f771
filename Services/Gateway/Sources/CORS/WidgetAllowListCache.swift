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

    private let cache: LookupCache<UUID, Lookup>
    private let chat: ServiceClient
    private let logger: Logger

    init(httpClient: HTTPClient, issuer: InternalTokenIssuer, chat: URL, timeToLive: Duration = .seconds(60),
         lookupTimeout: Duration = .seconds(2), logger: Logger) {
        self.chat = ServiceClient(.chat, at: chat, http: httpClient, issuer: issuer, timeout: lookupTimeout)
        // Unknown widgets are remembered for at most 10 seconds: long enough to absorb a flood.
        self.cache = LookupCache(whenLookupFails: .fail) { $0 == .unknownWidget ? min(timeToLive, .seconds(10)) : timeToLive }
        self.logger = logger
    }

    func lookup(_ widget: UUID, requestID: String) async throws(Problem) -> Lookup {
        do {
            return try await cache.value(for: widget) { try await fetch(widget, requestID: requestID) } ?? .unknownWidget
        } catch let problem as Problem {
            throw problem
        } catch {
            throw Self.unavailable
        }
    }

    /// What is cached for `widget`, without asking Chat (nil when nothing fresh is cached).
    func cached(_ widget: UUID) -> Lookup? { cache.cached(widget) }

    func invalidate(_ widget: UUID) { cache.invalidate(widget) }

    func invalidateAll() { cache.invalidateAll() }

    private static var unavailable: Problem {
        Problem.serviceUnavailable("The widget service is unavailable. Try again shortly.").with(header: "Retry-After", "1")
    }

    private func fetch(_ widget: UUID, requestID: String) async throws(Problem) -> Lookup {
        let reply: ServiceClient.Reply
        do {
            reply = try await chat.get("/internal/widgets/\(widget.uuidString.lowercased())/allow-list", customer: nil,
                                       requestID: requestID, maximumBytes: 64 * 1024)
        } catch {
            logger.warning("widget allow-list lookup failed", metadata: ["widget": "\(widget)", "error": "\(error)"])
            throw Self.unavailable
        }
        if reply.status == 404 { return .unknownWidget }
        struct AllowList: Decodable {
            let allowedDomains: [String]
            let ownerID: UUID
            enum CodingKeys: String, CodingKey { case allowedDomains = "allowed_domains", ownerID = "owner_id" }
        }
        guard reply.status == 200, let list = try? reply.decode(AllowList.self) else {
            logger.warning("widget allow-list lookup refused", metadata: ["widget": "\(widget)", "status": "\(reply.status)"])
            throw Self.unavailable
        }
        return .allowed(list.allowedDomains.compactMap(AllowedOrigin.init), owner: list.ownerID)
    }
}
