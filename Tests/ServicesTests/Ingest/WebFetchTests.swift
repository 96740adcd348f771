import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
@testable import Ingest
import Platform
import NIOConcurrencyHelpers
import NIOCore
import Testing

/// The web-fetching layer for URL ingestion: the SSRF address policy, the fetcher's gates and
/// limits, robots.txt, link and sitemap reading, and the crawler, against local Hummingbird sites
/// that record every path they serve.
@Suite(.timeLimit(.minutes(5))) struct WebFetchTests {
    /// A fake site: fixed answers by path, and every path requested, in order. `{origin}` and
    /// `{port}` in bodies and `Location`s are replaced by the server's own.
    struct Site: Sendable {
        struct Page: Sendable {
            var status: HTTPResponse.Status = .ok
            var contentType = "text/html; charset=utf-8"
            var body = ""
            var location: String?
            var delay: Duration?
            /// Sent as `count` chunks of `chunk` bytes, `pause` apart, without a length.
            var stream: (chunk: Int, count: Int, pause: Duration)?
        }

        var pages: [String: Page]
        let served = NIOLockedValueBox<[String]>([])

        var paths: [String] { served.withLockedValue { $0 } }
        func clear() { served.withLockedValue { $0.removeAll() } }

        func router() -> Router<BasicRequestContext> {
            let router = Router()
            let site = self
            let handler: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
                try await site.respond(to: request)
            }
            router.get("/", use: handler)
            router.get("**", use: handler)
            return router
        }

        func respond(to request: Request) async throws -> Response {
            served.withLockedValue { $0.append(request.uri.path) }
            guard let page = pages[request.uri.path] else { return Response(status: .notFound) }
            if let delay = page.delay { try await Task.sleep(for: delay) }
            let authority = request.head.authority ?? ""
            func fill(_ text: String) -> String {
                text.replacingOccurrences(of: "{origin}", with: "http://\(authority)")
                    .replacingOccurrences(of: "{port}", with: String(authority.split(separator: ":").last ?? ""))
            }
            var headers: HTTPFields = [.contentType: page.contentType]
            if let location = page.location { headers[.location] = fill(location) }
            guard let stream = page.stream else {
                return Response(status: page.status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: fill(page.body))))
            }
            return Response(status: page.status, headers: headers, body: ResponseBody { writer in
                for _ in 0..<stream.count {
                    try await writer.write(ByteBuffer(repeating: UInt8(ascii: "a"), count: stream.chunk))
                    if stream.pause > .zero { try await Task.sleep(for: stream.pause) }
                }
                try await writer.finish(nil)
            })
        }
    }

    static func html(_ links: [String]) -> Site.Page {
        Site.Page(body: "<html><body>" + links.map { "<a href=\"\($0)\">\($0)</a>" }.joined(separator: " ") + "</body></html>")
    }

    static func url(_ text: String) throws -> URL { try #require(URL(string: text)) }

    static let local = AddressPolicy(allowPrivateNetworks: true)

    // MARK: Address policy

    @Test func thePolicyRefusesPrivateLoopbackLinkLocalAndReservedAddresses() throws {
        let policy = AddressPolicy()
        let refused = [
            "127.0.0.1", "10.1.2.3", "172.20.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1",
            "fe80::1", "fc00::1", "::ffff:127.0.0.1", "::", "127.255.255.254", "255.255.255.255", "224.0.0.1",
            "240.0.0.1", "192.0.2.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::127.0.0.1", "64:ff9b::a00:1",
            "2002:7f00:1::1", "2002:c0a8:101::1", "fd12:3456::1", "ff02::1", "2001:db8::1", "fe80::1%eth0", "[::1]",
            "localhost", "not an address", "",
        ]
        for address in refused { #expect(!policy.permits(address), "\(address) must be refused") }
        let allowed = [
            "93.184.216.34", "8.8.8.8", "2606:4700::1111", "1.1.1.1", "172.32.0.1", "100.128.0.1", "::ffff:8.8.8.8",
            "64:ff9b::808:808", "[2606:4700::1111]",
        ]
        for address in allowed { #expect(policy.permits(address), "\(address) must be allowed") }
        #expect(AddressPolicy(allowPrivateNetworks: true).permits("127.0.0.1"))
        #expect(policy.permits(try SocketAddress(ipAddress: "8.8.8.8", port: 443)))
        #expect(!policy.permits(try SocketAddress(ipAddress: "::1", port: 443)))
    }

    @Test func aHostIsRefusedWhenAnyAddressItResolvesToIsRefused() async throws {
        let policy = AddressPolicy()
        #expect(throws: AddressRefusal.forbiddenAddress(host: "mixed.example")) {
            try policy.check(host: "mixed.example", addresses: ["93.184.216.34", "10.0.0.1"])
        }
        #expect(throws: AddressRefusal.forbiddenAddress(host: "nothing.example")) {
            try policy.check(host: "nothing.example", addresses: [])
        }
        try policy.check(host: "public.example", addresses: ["93.184.216.34", "2606:4700::1111"])
        #expect(!policy.permits(hostName: "localhost") && !policy.permits(hostName: "LocalHost.")
            && !policy.permits(hostName: "app.localhost") && policy.permits(hostName: "example.com"))

        let loopback = try await Self.local.resolve(host: "localhost", port: 80)
        #expect(loopback.contains { $0 == "127.0.0.1" || $0 == "::1" })
        // Forms getaddrinfo reads as numbers but inet_pton does not are judged by what they become.
        for host in ["127.1", "0x7f000001", "2130706433"] {
            await #expect(throws: AddressRefusal.forbiddenAddress(host: host)) {
                try await policy.permittedAddresses(host: host, port: 80)
            }
        }
    }

    @Test func fetchErrorsReadAsReasons() {
        #expect(FetchError.forbiddenAddress(host: "10.0.0.5").description
            == "The address 10.0.0.5 is in a private network; Contexo does not fetch private, loopback or link-local addresses.")
        #expect(FetchError.forbiddenAddress(host: "intranet.example").description.hasPrefix("The host intranet.example points to"))
        #expect(FetchError.tooLarge(limit: 10 << 20).description.contains("10 MB"))
        #expect(FetchError.status(404).description == "The site answered 404 Not Found.")
    }

    // MARK: Fetcher

    @Test func localAddressesAreRefusedBeforeAnythingIsSent() async throws {
        let site = Site(pages: ["/": Site.Page(body: "internal")])
        try await withLiveServer(site.router()) { port in
            let fetcher = WebFetcher(policy: AddressPolicy(), timeout: .seconds(30))
            let refused = [
                ("http://127.0.0.1:\(port)/", "127.0.0.1"), ("http://localhost:\(port)/", "localhost"),
                ("http://[::1]:\(port)/", "::1"), ("http://127.1:\(port)/", "127.1"), ("http://LocalHost.:\(port)/", "localhost"),
                ("http://app.localhost:\(port)/", "app.localhost"), ("http://[::ffff:127.0.0.1]:\(port)/", "::ffff:127.0.0.1"),
                ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
            ]
            for (address, host) in refused {
                let url = try Self.url(address)
                await #expect(throws: FetchError.forbiddenAddress(host: host), "\(address)") { try await fetcher.fetch(url) }
            }
        }
        #expect(site.paths.isEmpty, "nothing reached the server")
    }

    @Test func onlyHTTPAndHTTPSWithoutCredentialsAreFetched() async throws {
        let fetcher = WebFetcher(policy: Self.local, timeout: .seconds(30))
        let ftp = try Self.url("ftp://127.0.0.1/file.txt")
        await #expect(throws: FetchError.unsupportedScheme("ftp")) { try await fetcher.fetch(ftp) }
        await #expect(throws: FetchError.unsupportedScheme("file")) { try await fetcher.fetch(URL(fileURLWithPath: "/etc/passwd")) }
        let credentials = try Self.url("http://user:secret@127.0.0.1:1/")
        await #expect(throws: FetchError.invalidURL(reason: "Addresses with a user name or password in them cannot be fetched.")) {
            try await fetcher.fetch(credentials)
        }
    }

    @Test func everyRedirectHopIsCheckedAgainstThePolicy() async throws {
        let site = Site(pages: [
            "/to-metadata": Site.Page(status: .found, location: "http://169.254.169.254/latest/meta-data/"),
            "/to-localhost": Site.Page(status: .found, location: "http://localhost:{port}/secret"),
            "/to-ftp": Site.Page(status: .temporaryRedirect, location: "ftp://127.0.0.1/file.txt"),
            "/to-page": Site.Page(status: .movedPermanently, location: "/page"),
            "/page": Site.Page(contentType: "text/plain", body: "hello"),
            "/secret": Site.Page(body: "internal"),
        ])
        try await withLiveServer(site.router()) { port in
            // The local server's own address is let through; every other private one is not.
            var policy = AddressPolicy()
            policy.exemptAddresses = ["127.0.0.1"]
            let fetcher = WebFetcher(policy: policy, timeout: .seconds(30))
            let base = "http://127.0.0.1:\(port)"
            let metadata = try Self.url("\(base)/to-metadata")
            await #expect(throws: FetchError.forbiddenAddress(host: "169.254.169.254")) { try await fetcher.fetch(metadata) }
            let localhost = try Self.url("\(base)/to-localhost")
            await #expect(throws: FetchError.forbiddenAddress(host: "localhost")) { try await fetcher.fetch(localhost) }
            let ftp = try Self.url("\(base)/to-ftp")
            await #expect(throws: FetchError.unsupportedScheme("ftp")) { try await fetcher.fetch(ftp) }
            let page = try await fetcher.fetch(try Self.url("\(base)/to-page"))
            #expect(page.url.absoluteString == "\(base)/page")
            #expect(page.status == 200 && page.mediaType == "text/plain")
            #expect(String(decoding: page.body, as: UTF8.self) == "hello")
        }
        #expect(site.paths == ["/to-metadata", "/to-localhost", "/to-ftp", "/to-page", "/page"], "/secret never requested")
    }

    @Test func bodiesOverTheLimitAreRefusedWhetherDeclaredOrStreamed() async throws {
        let site = Site(pages: [
            "/declared": Site.Page(contentType: "text/plain", body: String(repeating: "a", count: 3 << 20)),
            "/streamed": Site.Page(contentType: "text/plain", stream: (chunk: 64 << 10, count: 48, pause: .zero)),
            "/small": Site.Page(contentType: "text/plain", stream: (chunk: 64 << 10, count: 8, pause: .zero)),
        ])
        try await withLiveServer(site.router()) { port in
            let fetcher = WebFetcher(policy: Self.local, maximumBytes: 1 << 20, timeout: .seconds(30))
            for path in ["/declared", "/streamed"] {
                let url = try Self.url("http://127.0.0.1:\(port)\(path)")
                await #expect(throws: FetchError.tooLarge(limit: 1 << 20), "\(path)") { try await fetcher.fetch(url) }
            }
            let small = try await fetcher.fetch(try Self.url("http://127.0.0.1:\(port)/small"))
            #expect(small.body.count == 512 << 10)
            // By name: resolved, checked and pinned to the checked address.
            let named = try await fetcher.fetch(try Self.url("http://localhost:\(port)/small"))
            #expect(named.body.count == 512 << 10 && named.url.host == "localhost")
        }
    }

    @Test func redirectsAreFollowedUpToTheLimit() async throws {
        var pages = ["/r/10": Site.Page(contentType: "text/plain", body: "arrived")]
        for step in 1..<10 { pages["/r/\(step)"] = Site.Page(status: .found, location: "/r/\(step + 1)") }
        let site = Site(pages: pages)
        try await withLiveServer(site.router()) { port in
            let fetcher = WebFetcher(policy: Self.local, timeout: .seconds(30), maximumRedirects: 3)
            let page = try await fetcher.fetch(try Self.url("http://127.0.0.1:\(port)/r/7"))
            #expect(page.url.path == "/r/10")
            let long = try Self.url("http://127.0.0.1:\(port)/r/1")
            await #expect(throws: FetchError.tooManyRedirects(limit: 3)) { try await fetcher.fetch(long) }
        }
        #expect(site.paths == ["/r/7", "/r/8", "/r/9", "/r/10", "/r/1", "/r/2", "/r/3", "/r/4"])
    }

    @Test func aSlowServerTimesOutAtTheDeadline() async throws {
        let site = Site(pages: [
            "/slow-head": Site.Page(contentType: "text/plain", body: "late", delay: .seconds(2)),
            "/slow-body": Site.Page(contentType: "text/plain", stream: (chunk: 16, count: 20, pause: .milliseconds(100))),
        ])
        try await withLiveServer(site.router()) { port in
            let fetcher = WebFetcher(policy: Self.local, timeout: .milliseconds(500))
            for path in ["/slow-head", "/slow-body"] {
                let url = try Self.url("http://127.0.0.1:\(port)\(path)")
                // Only the deadline produces .timedOut (the server would answer after 2 s).
                await #expect(throws: FetchError.timedOut, "\(path)") { try await fetcher.fetch(url) }
            }
        }
    }

    // MARK: Crawler

    @Test func theCrawlerStaysOnTheSiteObeysRobotsAndKeepsReadablePages() async throws {
        let site = Site(pages: [
            "/robots.txt": Site.Page(contentType: "text/plain", body: "User-agent: *\nDisallow: /private\n"),
            "/index.html": Site.Page(body: """
                <html><body>
                <a href="about.html">About</a>
                <A HREF='/docs/guide'>Guide</A>
                <a href=/private/secret>Secret</a>
                <a href="http://example.invalid/elsewhere">Elsewhere</a>
                <a href="mailto:team@example.com">Mail</a> <a href="javascript:void(0)">JS</a> <a href="tel:+15550100">Call</a>
                <a href="#top">Top</a>
                <a href="{origin}/about.html#team">Team</a>
                <a href="/report.pdf">Report</a>
                </body></html>
                """),
            "/about.html": Site.Page(body: "<a href='index.html'>Home</a> <a href=\"docs/guide\">Guide</a>"),
            "/docs/guide": Site.Page(contentType: "text/markdown", body: "# Guide"),
            "/report.pdf": Site.Page(contentType: "application/pdf", body: "%PDF-1.4"),
            "/private/secret": Site.Page(body: "internal"),
        ])
        try await withLiveServer(site.router()) { port in
            let crawler = Crawler(fetcher: WebFetcher(policy: Self.local, timeout: .seconds(30)))
            let result = try await crawler.crawl(from: try Self.url("http://127.0.0.1:\(port)/index.html"))
            #expect(result.pages.map(\.url.path) == ["/index.html", "/about.html", "/docs/guide"])
            #expect(result.skipped.map(\.url.path) == ["/private/secret", "/report.pdf"])
            #expect(result.skipped.first?.reason.contains("robots.txt") == true)
            #expect(result.skipped.last?.reason.contains("application/pdf") == true)
        }
        #expect(site.paths == ["/robots.txt", "/index.html", "/about.html", "/docs/guide", "/report.pdf"])
    }

    @Test func theCrawlerStopsAtTheDepthAndPageLimits() async throws {
        let site = Site(pages: [
            "/a": Self.html(["/b"]), "/b": Self.html(["/c"]), "/c": Self.html(["/d"]), "/d": Self.html([]),
            "/hub": Self.html(["/p1", "/p2", "/p3", "/p4", "/p5"]),
            "/p1": Self.html([]), "/p2": Self.html([]), "/p3": Self.html([]), "/p4": Self.html([]), "/p5": Self.html([]),
        ])
        try await withLiveServer(site.router()) { port in
            let fetcher = WebFetcher(policy: Self.local, timeout: .seconds(30))
            let deep = try await Crawler(fetcher: fetcher, maximumDepth: 2).crawl(from: try Self.url("http://127.0.0.1:\(port)/a"))
            #expect(deep.pages.map(\.url.path) == ["/a", "/b", "/c"])
            #expect(deep.skipped.map(\.url.path) == ["/d"])
            #expect(site.paths == ["/robots.txt", "/a", "/b", "/c"], "a missing robots.txt allows everything")
            site.clear()
            let wide = try await Crawler(fetcher: fetcher, maximumPages: 3).crawl(from: try Self.url("http://127.0.0.1:\(port)/hub"))
            #expect(wide.pages.map(\.url.path) == ["/hub", "/p1", "/p2"])
            #expect(wide.skipped.map(\.url.path) == ["/p3", "/p4", "/p5"])
        }
        #expect(site.paths == ["/robots.txt", "/hub", "/p1", "/p2"])
    }

    @Test func aSitemapStartFetchesItsPagesWithoutFollowingLinks() async throws {
        let site = Site(pages: [
            // Our own group wins over `*`, which would forbid everything.
            "/robots.txt": Site.Page(contentType: "text/plain", body: "User-agent: *\nDisallow: /\n\nUser-agent: ContexoBot\nDisallow: /drafts/\n"),
            "/sitemap.xml": Site.Page(contentType: "application/xml", body: """
                <?xml version="1.0" encoding="UTF-8"?>
                <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
                  <url><loc>{origin}/s1</loc></url>
                  <url><loc>
                    {origin}/s2
                  </loc><lastmod>2024-01-01</lastmod></url>
                  <url><loc><![CDATA[{origin}/s3]]></loc></url>
                  <url><loc>http://example.invalid/elsewhere</loc></url>
                  <url><loc>{origin}/drafts/wip</loc></url>
                </urlset>
                """),
            "/sitemap-index": Site.Page(contentType: "text/xml", body: """
                <sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
                  <sitemap><loc>{origin}/pages-sitemap.xml</loc></sitemap>
                </sitemapindex>
                """),
            "/pages-sitemap.xml": Site.Page(contentType: "application/xml", body: """
                <urlset><url><loc>{origin}/s1</loc></url><url><loc>{origin}/s2</loc></url></urlset>
                """),
            "/s1": Self.html(["/linked"]), "/s2": Self.html(["/linked"]),
            "/s3": Site.Page(contentType: "text/plain", body: "three"),
            "/linked": Self.html([]),
        ])
        try await withLiveServer(site.router()) { port in
            let crawler = Crawler(fetcher: WebFetcher(policy: Self.local, timeout: .seconds(30)))
            let listed = try await crawler.crawl(from: try Self.url("http://127.0.0.1:\(port)/sitemap.xml"))
            #expect(listed.pages.map(\.url.path) == ["/s1", "/s2", "/s3"])
            #expect(listed.skipped.map(\.url.path) == ["/drafts/wip"])
            #expect(site.paths == ["/robots.txt", "/sitemap.xml", "/s1", "/s2", "/s3"])
            site.clear()
            let indexed = try await crawler.crawl(from: try Self.url("http://127.0.0.1:\(port)/sitemap-index"))
            #expect(indexed.pages.map(\.url.path) == ["/s1", "/s2"])
        }
        #expect(site.paths == ["/robots.txt", "/sitemap-index", "/pages-sitemap.xml", "/s1", "/s2"])
    }

    @Test func theLinkExtractorToleratesQuotingCaseBaseAndScripts() throws {
        let html = """
            <!-- <a href="/commented">no</a> -->
            <HTML><head><BASE HREF="https://docs.example.com/v2/"><base href="/ignored/"></head>
            <a class=x href=guide.html>Guide</a>
            <a data-x='1' href='/api?x=1&amp;y=2#part'>API</a>
            <a title="a > b" href = "  ../faq  ">FAQ</a>
            <script>var s = '<a href="/in-script">';</script>
            <a href="mailto:x@example.com">Mail</a><a href="javascript:alert(1)">JS</a><a href="tel:123">Tel</a>
            <a href="ftp://files.example.com/x">FTP</a>
            <a>no href</a><a href="">empty</a>
            <a href="https://other.example.org/page">Other</a>
            <a href="guide.html#again">Again</a>
            """
        let links = LinkExtractor.links(in: html, pageURL: try Self.url("https://docs.example.com/v1/index.html"))
        #expect(links.map(\.absoluteString) == [
            "https://docs.example.com/v2/guide.html",
            "https://docs.example.com/api?x=1&y=2",
            "https://docs.example.com/faq",
            "https://other.example.org/page",
        ])
    }

    // MARK: robots.txt

    static let robots = """
        # comment
        User-agent: *
        Disallow: /

        User-agent: OtherBot
        User-agent: contexobot   # names are case-insensitive
        Disallow: /private
        Allow: /private/open
        Disallow: /*.pdf$
        Disallow: /search*q=
        Allow: /page
        Disallow: /page
        Sitemap: https://example.com/sitemap.xml
        """

    @Test func robotsTxtPicksTheMostSpecificGroupAndTheLongestRule() {
        let robots = RobotsTxt(Self.robots, userAgent: "ContexoBot/1.0 (+https://contexo.example/bot)")
        #expect(robots.allows(path: "/"))
        #expect(robots.allows(path: "/about"))
        #expect(!robots.allows(path: "/private"))
        #expect(!robots.allows(path: "/private/x"))
        #expect(robots.allows(path: "/private/open/x"), "the longer Allow wins")
        #expect(!robots.allows(path: "/files/a.pdf"))
        #expect(robots.allows(path: "/files/a.pdf?download=1"), "$ anchors the end")
        #expect(robots.allows(path: "/files/a.pdfx"))
        #expect(!robots.allows(path: "/search?q=refunds"))
        #expect(!robots.allows(path: "/search/all?page=2&q=x"), "* matches any run")
        #expect(robots.allows(path: "/search?page=2"))
        #expect(robots.allows(path: "/page"), "a tie goes to Allow")
        #expect(robots.sitemaps == ["https://example.com/sitemap.xml"])

        let someoneElse = RobotsTxt(Self.robots, userAgent: "SomeoneElse")
        #expect(!someoneElse.allows(path: "/about"), "the * group")
        #expect(someoneElse.allows(path: "/robots.txt"))
    }

    @Test func robotsTxtEmptyRulesAnchorsAndEncoding() {
        #expect(RobotsTxt("User-agent: *\nDisallow:\n").allows(path: "/anything"))
        #expect(RobotsTxt("").allows(path: "/anything"))
        #expect(RobotsTxt("User-agent: *\nDisallow: /\n\nUser-agent: ContexoBot\nDisallow:\n").allows(path: "/page"),
                "an empty group of our own overrides *")
        let anchored = RobotsTxt("User-agent: *\nDisallow: /\nAllow: /$\n")
        #expect(anchored.allows(path: "/") && !anchored.allows(path: "/page"))
        let encoded = RobotsTxt("\u{FEFF}User-agent: *\r\nDisallow: /caf%c3%a9\r\nDisallow: /a%2fb\r\nDisallow: /über\r\n")
        #expect(!encoded.allows(path: "/caf%C3%A9/menu"))
        #expect(!encoded.allows(path: "/%C3%BCber"))
        #expect(encoded.allows(path: "/a/b"), "an encoded slash is not a separator")
        #expect(!encoded.allows(path: "/a%2Fb"))
    }
}
