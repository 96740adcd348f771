import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Platform

/// Finds the client's IP: the socket peer, or — only behind `trustedProxies` proxies that append to
/// `X-Forwarded-For` — the address the outermost trusted proxy saw. A client cannot dodge the
/// limiter by sending an `X-Forwarded-For` of its own: only the entries our proxies appended count.
struct ClientAddress: Sendable {
    private static let forwardedFor = HTTPField.Name("X-Forwarded-For")!
    let trustedProxies: Int

    func ip(of request: Request, context: ContexoRequestContext) -> String {
        let peer = context.remoteAddress?.ipAddress ?? "unknown"
        guard trustedProxies > 0 else { return peer }
        let hops = request.headers[values: Self.forwardedFor]
            .flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        // Our innermost proxy is the socket peer; the N trusted proxies appended the last N entries,
        // the first of which is the client as the outermost proxy saw it.
        let index = hops.count - trustedProxies
        return index >= 0 ? hops[index] : peer
    }
}
