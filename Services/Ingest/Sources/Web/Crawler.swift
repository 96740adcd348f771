import Foundation
import Platform

/// What a crawl gathered: the readable pages in the order fetched, and the addresses it found but
/// did not ingest, each with the reason.
public struct CrawlResult: Sendable {
    public var pages: [FetchedPage]
    public var skipped: [SkippedPage]

    public init(pages: [FetchedPage] = [], skipped: [SkippedPage] = []) {
        self.pages = pages
        self.skipped = skipped
    }
}

/// An address a crawl did not ingest, and why (a sentence for the customer).
public struct SkippedPage: Sendable, Equatable {
    public var url: URL
    public var reason: String

    public init(url: URL, reason: String) {
        self.url = url
        self.reason = reason
    }
}

/// Crawls one site for ingestion, politely and within bounds.
///
/// It reads the site's robots.txt once (a missing or unreadable one allows everything) and obeys
/// the rules for `ContexoBot`. A start address ending in `sitemap.xml`, or answering with an XML
/// sitemap, is read as a list of pages (one level of sitemap index is followed), and those pages
/// are fetched without following their links. Any other start page is crawled breadth-first
/// through its `<a href>` links, at most `maximumDepth` links away.
///
/// Only the start page's site is crawled (same scheme, host and port; if the start page redirects,
/// the site it lands on): links elsewhere are ignored, not fetched. Pages are deduplicated by
/// normalised address, at most `maximumPages` requests are made for pages (robots.txt and
/// sitemaps not counted), and only HTML, plain-text and Markdown pages are returned; everything
/// else found on the site is listed in ``CrawlResult/skipped`` with the reason. Requests are made
/// one after the other through the ``WebFetcher``, whose address policy applies to every one.
///
/// The crawl throws when the start address itself cannot be fetched (a ``FetchError``).
public struct Crawler: Sendable {
    public var fetcher: WebFetcher
    public var maximumPages: Int
    public var maximumDepth: Int

    /// The most of a robots.txt that is read (Google reads 500 KiB).
    static let robotsLimit = 512 << 10
    /// The most child sitemaps of a sitemap index that are read.
    static let maximumChildSitemaps = 20
    static let htmlTypes: Set<String> = ["text/html", "application/xhtml+xml"]
    static let readableTypes: Set<String> = htmlTypes.union(["text/plain", "text/markdown", "text/x-markdown"])

    public init(fetcher: WebFetcher, maximumPages: Int = 50, maximumDepth: Int = 3) {
        self.fetcher = fetcher
        self.maximumPages = maximumPages
        self.maximumDepth = maximumDepth
    }

    public func crawl(from start: URL) async throws -> CrawlResult {
        var run = try CrawlRun(crawler: self, start: start)
        return try await run.run()
    }
}

/// The state of one crawl.
struct CrawlRun {
    enum Mode { case links, sitemap }

    let crawler: Crawler
    let start: URL
    var origin: SiteOrigin
    var mode = Mode.links
    var robots = RobotsTxt.allowAll
    var robotsRead: Set<SiteOrigin> = []
    var seen: Set<URL> = []
    var queue: [(url: URL, depth: Int)] = []
    var requests = 0
    var result = CrawlResult()

    init(crawler: Crawler, start: URL) throws {
        guard let scheme = start.scheme?.lowercased() else {
            throw FetchError.invalidURL(reason: "\(start.absoluteString) is not a web address.")
        }
        guard scheme == "http" || scheme == "https" else { throw FetchError.unsupportedScheme(scheme) }
        guard start.user == nil, start.password == nil else {
            throw FetchError.invalidURL(reason: "Addresses with a user name or password in them cannot be fetched.")
        }
        guard let normalized = SiteOrigin.normalized(start), let origin = SiteOrigin(normalized) else {
            throw FetchError.invalidURL(reason: "\(start.absoluteString) has no usable host name.")
        }
        self.crawler = crawler
        self.start = normalized
        self.origin = origin
    }

    mutating func run() async throws -> CrawlResult {
        try await readRobots(for: origin)
        seen.insert(start)
        guard robots.allows(path: SiteOrigin.robotsPath(start)) else {
            skip(start, Self.disallowed)
            return result
        }
        let first = try await crawler.fetcher.fetch(start)
        if let landed = SiteOrigin.normalized(first.url), let landedOrigin = SiteOrigin(landed) {
            seen.insert(landed)
            if landedOrigin != origin {
                origin = landedOrigin
                try await readRobots(for: landedOrigin)
            }
        }
        let body = String(decoding: first.body, as: UTF8.self)
        if start.path.lowercased().hasSuffix("sitemap.xml") || (first.mediaType.contains("xml") && Sitemap.isSitemap(body)) {
            mode = .sitemap
            try await queueSitemap(Sitemap(body), from: first.url)
        } else {
            requests = 1
            record(first, depth: 0)
        }
        try await drain()
        return result
    }

    /// Fetches the queue in order (it grows while links are followed) until the page limit.
    mutating func drain() async throws {
        var next = 0
        while next < queue.count {
            guard requests < crawler.maximumPages else {
                for entry in queue[next...] {
                    skip(entry.url, "The crawl stopped at its limit of \(crawler.maximumPages) pages.")
                }
                return
            }
            let (url, depth) = queue[next]
            next += 1
            requests += 1
            let page: FetchedPage
            do {
                page = try await crawler.fetcher.fetch(url)
            } catch let error as FetchError {
                skip(url, error.description)
                continue
            }
            guard let landed = SiteOrigin.normalized(page.url), SiteOrigin(landed) == origin else {
                skip(url, "It redirected to another site (\(page.url.absoluteString)).")
                continue
            }
            // A redirect to an address already seen: that page is fetched (or queued) already.
            if landed != url, !seen.insert(landed).inserted { continue }
            record(page, depth: depth)
        }
    }

    /// Keeps a readable page, and queues an HTML page's links when following links.
    mutating func record(_ page: FetchedPage, depth: Int) {
        if mode == .links, Crawler.htmlTypes.contains(page.mediaType) {
            let html = String(decoding: page.body, as: UTF8.self)
            for link in LinkExtractor.links(in: html, pageURL: page.url) { enqueue(link, depth: depth + 1) }
        }
        if Crawler.readableTypes.contains(page.mediaType) {
            result.pages.append(page)
        } else {
            let type = page.mediaType.isEmpty ? "no content type" : page.mediaType
            skip(page.url, "It is not an HTML, text or Markdown page (\(type)).")
        }
    }

    /// Queues a same-site address not seen before, unless it is too deep or robots.txt forbids it.
    mutating func enqueue(_ link: URL, depth: Int) {
        guard let url = SiteOrigin.normalized(link), SiteOrigin(url) == origin, seen.insert(url).inserted else { return }
        guard mode == .sitemap || depth <= crawler.maximumDepth else {
            skip(url, "It is more than \(crawler.maximumDepth) links away from the start page.")
            return
        }
        guard robots.allows(path: SiteOrigin.robotsPath(url)) else {
            skip(url, Self.disallowed)
            return
        }
        queue.append((url, depth))
    }

    /// Queues a sitemap's pages, reading the child sitemaps of an index (one level).
    mutating func queueSitemap(_ sitemap: Sitemap, from address: URL) async throws {
        guard sitemap.isIndex else {
            for location in sitemap.locations {
                if let url = URL(string: location, relativeTo: address)?.absoluteURL { enqueue(url, depth: 1) }
            }
            return
        }
        for location in sitemap.locations.prefix(Crawler.maximumChildSitemaps) {
            guard let link = URL(string: location, relativeTo: address)?.absoluteURL,
                  let url = SiteOrigin.normalized(link), SiteOrigin(url) == origin, seen.insert(url).inserted else { continue }
            guard robots.allows(path: SiteOrigin.robotsPath(url)) else {
                skip(url, Self.disallowed)
                continue
            }
            do {
                let child = try await crawler.fetcher.fetch(url)
                let nested = Sitemap(String(decoding: child.body, as: UTF8.self))
                if !nested.isIndex { try await queueSitemap(nested, from: child.url) }
            } catch let error as FetchError {
                skip(url, error.description)
            }
        }
    }

    /// Reads an origin's robots.txt once. Missing, unreadable or oversized means no rules; an
    /// origin the policy refuses fails the crawl.
    mutating func readRobots(for origin: SiteOrigin) async throws {
        guard robotsRead.insert(origin).inserted, let url = origin.robotsURL else { return }
        var fetcher = crawler.fetcher
        fetcher.maximumBytes = min(fetcher.maximumBytes, Crawler.robotsLimit)
        do {
            let file = try await fetcher.fetch(url)
            robots = RobotsTxt(String(decoding: file.body, as: UTF8.self), userAgent: fetcher.userAgent)
        } catch let error as FetchError {
            switch error {
            case .forbiddenAddress, .unsupportedScheme, .invalidURL: throw error
            default: robots = .allowAll
            }
        }
    }

    mutating func skip(_ url: URL, _ reason: String) {
        result.skipped.append(SkippedPage(url: url, reason: reason))
    }

    static let disallowed = "The site's robots.txt does not allow crawlers to fetch it."
}

/// A site as crawling sees it: scheme, host and port.
struct SiteOrigin: Hashable, Sendable {
    var scheme: String
    var host: String
    var port: Int

    init?(_ url: URL) {
        guard let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = url.host, !host.isEmpty else { return nil }
        self.scheme = scheme
        self.host = AddressPolicy.bareHost(host)
        self.port = url.port ?? Self.defaultPort(scheme)
    }

    var robotsURL: URL? {
        let host = self.host.contains(":") ? "[\(self.host)]" : self.host
        let port = self.port == Self.defaultPort(scheme) ? "" : ":\(self.port)"
        return URL(string: "\(scheme)://\(host)\(port)/robots.txt")
    }

    static func defaultPort(_ scheme: String) -> Int { scheme == "https" ? 443 : 80 }

    /// The address pages are deduplicated by: scheme and host lower-cased, no default port, no
    /// fragment, `/` for an empty path. Nil for anything but a usable http(s) address.
    static func normalized(_ url: URL) -> URL? {
        guard let origin = SiteOrigin(url),
              let components = URLComponents(url: url, resolvingAgainstBaseURL: true),
              let host = components.percentEncodedHost, !host.isEmpty else { return nil }
        var text = "\(origin.scheme)://\(host.lowercased())"
        if origin.port != defaultPort(origin.scheme) { text += ":\(origin.port)" }
        text += components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        if let query = components.percentEncodedQuery { text += "?\(query)" }
        return URL(string: text)
    }

    /// The path and query robots.txt rules are matched against.
    static func robotsPath(_ url: URL) -> String {
        guard let components = URLComponents(url: url, resolvingAgainstBaseURL: true) else { return "/" }
        let path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        return components.percentEncodedQuery.map { "\(path)?\($0)" } ?? path
    }
}
