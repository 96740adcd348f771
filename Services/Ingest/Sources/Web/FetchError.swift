import Foundation
import NIOHTTP1
import Platform

/// Why a web address could not be fetched. The descriptions are reasons shown to customers.
public enum FetchError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Not a usable web address (no host, credentials in it, a bad port); the reason says which.
    case invalidURL(reason: String)
    /// A scheme other than http and https (`ftp`, `file`, …).
    case unsupportedScheme(String)
    /// The host is, or resolves to, an address ``AddressPolicy`` refuses.
    case forbiddenAddress(host: String)
    /// The host name does not resolve.
    case unresolvable(host: String)
    /// The connection failed or broke off; the text says how.
    case unreachable(String)
    /// The body is larger than the fetcher's limit (in bytes).
    case tooLarge(limit: Int)
    /// The whole fetch, redirects and body included, took longer than the fetcher's timeout.
    case timedOut
    /// More redirects than the fetcher follows.
    case tooManyRedirects(limit: Int)
    /// The final answer was not a 2xx (redirects without a `Location` included).
    case status(Int)

    /// The reason an ``AddressPolicy`` gave, as a fetch error.
    public init(_ refusal: AddressRefusal) {
        switch refusal {
        case .forbiddenAddress(let host): self = .forbiddenAddress(host: host)
        case .unresolvable(let host): self = .unresolvable(host: host)
        }
    }

    public var description: String {
        let policy = "Contexo does not fetch private, loopback or link-local addresses."
        switch self {
        case .invalidURL(let reason):
            return reason
        case .unsupportedScheme(let scheme):
            return "Only http and https addresses can be fetched, not \(scheme): addresses."
        case .forbiddenAddress(let host) where AddressPolicy.bytes(of: host) != nil:
            return "The address \(host) is in a private network; \(policy)"
        case .forbiddenAddress(let host):
            return "The host \(host) points to a private network address; \(policy)"
        case .unresolvable(let host):
            return "The host \(host) could not be found."
        case .unreachable(let detail):
            return "The site could not be reached: \(detail)."
        case .tooLarge(let limit):
            return "The page is larger than \(Self.size(limit)), the most Contexo fetches from one address."
        case .timedOut:
            return "The site took too long to answer."
        case .tooManyRedirects(let limit):
            return "The address redirected more than \(limit) times."
        case .status(let code):
            let phrase = HTTPResponseStatus(statusCode: code).reasonPhrase
            return phrase.isEmpty ? "The site answered with status \(code)." : "The site answered \(code) \(phrase)."
        }
    }

    /// "10 MB", "512 KB", "100 bytes".
    static func size(_ bytes: Int) -> String {
        if bytes >= 1 << 20, bytes % (1 << 20) == 0 { return "\(bytes >> 20) MB" }
        if bytes >= 1 << 20 { return String(format: "%.1f MB", Double(bytes) / Double(1 << 20)) }
        if bytes >= 1 << 10 { return "\(bytes >> 10) KB" }
        return "\(bytes) bytes"
    }
}
