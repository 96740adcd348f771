import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOPosix
import Platform

/// A web page as fetched: the address it was finally read from (after redirects), its declared
/// content type and its body.
public struct FetchedPage: Sendable, Equatable {
    /// The final address, after redirects.
    public var url: URL
    /// The `Content-Type` header as sent (`application/octet-stream` when missing).
    public var contentType: String
    public var body: Data
    /// The HTTP status (always 2xx: other answers are ``FetchError/status(_:)``).
    public var status: Int

    public init(url: URL, contentType: String, body: Data, status: Int) {
        self.url = url
        self.contentType = contentType
        self.body = body
        self.status = status
    }

    /// The content type without parameters, lower-cased: `text/html`.
    public var mediaType: String {
        contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
    }
}

/// Fetches one web address for ingestion, safely: http and https only, no credentials in the
/// address, every hop's host resolved and judged by an ``AddressPolicy`` before anything is sent,
/// redirects followed by hand (each one judged again) up to a limit, the body capped while it
/// streams, and one deadline for the whole fetch.
///
/// Every request goes through its own short-lived `HTTPClient` (on NIO's singleton event loop
/// group) that does not follow redirects and is pinned with `dnsOverride` to an address the policy
/// accepted: the connection goes to the address that was judged, so a name that resolves to a
/// public address for the check and to a private one for the connect (DNS rebinding) gets nowhere.
/// TLS still verifies the certificate for the host name. The fetcher owns no long-lived client and
/// needs no shutdown; the price is a new connection per request, which a crawler can afford.
public struct WebFetcher: Sendable {
    public var policy: AddressPolicy
    /// The largest body accepted, in bytes.
    public var maximumBytes: Int
    /// The deadline for the whole fetch: resolution, redirects and the body.
    public var timeout: Duration
    public var maximumRedirects: Int
    public var userAgent: String

    public init(
        policy: AddressPolicy, maximumBytes: Int = 10 << 20, timeout: Duration = .seconds(20), maximumRedirects: Int = 5,
        userAgent: String = "ContexoBot/1.0 (+https://contexo.example/bot)"
    ) {
        self.policy = policy
        self.maximumBytes = maximumBytes
        self.timeout = timeout
        self.maximumRedirects = maximumRedirects
        self.userAgent = userAgent
    }

    /// Fetches `url`, following redirects; throws a ``FetchError`` saying why when it cannot.
    public func fetch(_ url: URL) async throws -> FetchedPage {
        try await Self.withTimeout(timeout) { try await self.followingRedirects(from: url) }
    }

    func followingRedirects(from start: URL) async throws -> FetchedPage {
        var url = start
        var redirects = 0
        while true {
            let target = try await target(for: url)
            let answer = try await send(url, to: target)
            if let location = answer.location {
                guard redirects < maximumRedirects else { throw FetchError.tooManyRedirects(limit: maximumRedirects) }
                redirects += 1
                url = try Self.redirect(to: location, from: url)
                continue
            }
            guard (200..<300).contains(answer.status) else { throw FetchError.status(answer.status) }
            return FetchedPage(url: url, contentType: answer.contentType, body: answer.body, status: answer.status)
        }
    }

    /// Checks that `url` may be fetched and resolves where to: the gate every hop passes.
    func target(for url: URL) async throws -> PinnedTarget {
        guard let scheme = url.scheme?.lowercased() else {
            throw FetchError.invalidURL(reason: "\(url.absoluteString) is not a web address.")
        }
        guard scheme == "http" || scheme == "https" else { throw FetchError.unsupportedScheme(scheme) }
        guard url.user == nil, url.password == nil else {
            throw FetchError.invalidURL(reason: "Addresses with a user name or password in them cannot be fetched.")
        }
        guard let host = url.host, !host.isEmpty, !host.contains("%") else {
            throw FetchError.invalidURL(reason: "\(url.absoluteString) has no usable host name.")
        }
        let port = url.port ?? (scheme == "https" ? 443 : 80)
        guard (1...65_535).contains(port) else {
            throw FetchError.invalidURL(reason: "\(port) is not a valid port.")
        }
        do {
            return try await policy.target(host: host, port: port)
        } catch let refusal as AddressRefusal {
            throw FetchError(refusal)
        }
    }

    /// A `Location` resolved against the address that sent it.
    static func redirect(to location: String, from url: URL) throws -> URL {
        let trimmed = location.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, let next = URL(string: trimmed, relativeTo: url)?.absoluteURL else {
            throw FetchError.invalidURL(reason: "The site redirected to an address that is not valid: \(location)")
        }
        return next
    }
}

// MARK: - One request

extension WebFetcher {
    /// One answer: a redirect's `Location`, or a status with its body (read only for 2xx).
    struct Answer: Sendable {
        var status: Int
        var location: String?
        var contentType: String
        var body: Data
    }

    static let redirectStatuses: Set<Int> = [301, 302, 303, 307, 308]
    static let accept = "text/html,application/xhtml+xml,text/plain;q=0.9,text/markdown;q=0.9,application/xml;q=0.8,*/*;q=0.5"

    /// A request that got no answer (the next address is tried).
    private struct NoAnswer: Error {
        var reason: String
    }

    /// Sends the request to the target's addresses in turn (at most three) until one answers.
    func send(_ url: URL, to target: PinnedTarget) async throws -> Answer {
        var reason = "no address to connect to"
        for address in target.addresses.prefix(3) {
            try Task.checkCancellation()
            do {
                return try await send(url, hostName: target.hostName, pinnedTo: address)
            } catch let failure as NoAnswer {
                reason = failure.reason
            }
        }
        throw FetchError.unreachable(reason)
    }

    private func send(_ url: URL, hostName: String?, pinnedTo address: String) async throws -> Answer {
        try await PinnedConnection.with(hostName: hostName, address: address, connectTimeout: min(timeout, .seconds(10))) { client in
            try await exchange(url, on: client)
        }
    }

    private func exchange(_ url: URL, on client: HTTPClient) async throws -> Answer {
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = .GET
        request.headers.add(name: "User-Agent", value: userAgent)
        request.headers.add(name: "Accept", value: Self.accept)
        request.headers.add(name: "Accept-Encoding", value: "identity")
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: TimeAmount(timeout))
        } catch {
            try Task.checkCancellation()
            throw NoAnswer(reason: PinnedConnection.reason(for: error))
        }
        let status = Int(response.status.code)
        if Self.redirectStatuses.contains(status), let location = response.headers.first(name: "Location") {
            return Answer(status: status, location: location, contentType: "", body: Data())
        }
        guard (200..<300).contains(status) else { return Answer(status: status, contentType: "", body: Data()) }
        if let length = response.headers.first(name: "Content-Length").flatMap({ Int($0) }), length > maximumBytes {
            throw FetchError.tooLarge(limit: maximumBytes)
        }
        var body = ByteBuffer()
        do {
            for try await chunk in response.body {
                guard body.readableBytes + chunk.readableBytes <= maximumBytes else {
                    throw FetchError.tooLarge(limit: maximumBytes)
                }
                body.writeImmutableBuffer(chunk)
            }
        } catch let error as FetchError {
            throw error
        } catch {
            try Task.checkCancellation()
            throw FetchError.unreachable("the connection broke off while the page was being read")
        }
        try Task.checkCancellation()  // a cancelled read can end early without an error
        let contentType = response.headers.first(name: "Content-Type") ?? "application/octet-stream"
        return Answer(status: status, contentType: contentType, body: Data(buffer: body))
    }

    /// Runs `operation`, throwing ``FetchError/timedOut`` (and cancelling it) if it outlasts `timeout`.
    static func withTimeout<T: Sendable>(
        _ timeout: Duration, _ operation: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await operation() }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else { throw FetchError.timedOut }
            return value
        }
    }
}

extension WebFetcher.Answer {
    init(status: Int, contentType: String, body: Data) {
        self.init(status: status, location: nil, contentType: contentType, body: body)
    }
}
