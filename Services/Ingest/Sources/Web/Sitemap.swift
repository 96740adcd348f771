import Foundation

/// The addresses an XML sitemap (sitemaps.org) lists: the `<loc>` of each `<url>` of a
/// `<urlset>`, or of each child sitemap of a `<sitemapindex>`. A tolerant scan, not an XML parser:
/// CDATA sections and entities in `<loc>` are understood, namespaces and gzip are not.
struct Sitemap: Equatable, Sendable {
    /// Whether this is a `<sitemapindex>` (its locations are sitemaps, not pages).
    var isIndex: Bool
    var locations: [String]

    init(_ text: String) {
        isIndex = text.range(of: "<sitemapindex", options: .caseInsensitive) != nil
        var locations: [String] = []
        var rest = text.startIndex..<text.endIndex
        while let open = text.range(of: "<loc>", options: .caseInsensitive, range: rest),
              let close = text.range(of: "</loc>", options: .caseInsensitive, range: open.upperBound..<text.endIndex) {
            var value = text[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespacesAndNewlines)
            if value.hasPrefix("<![CDATA["), value.hasSuffix("]]>") {
                value = value.dropFirst(9).dropLast(3).trimmingCharacters(in: .whitespacesAndNewlines)
            }
            value = HTMLReader.decodeEntities(value)
            if !value.isEmpty { locations.append(value) }
            rest = close.upperBound..<text.endIndex
        }
        self.locations = locations
    }

    /// Whether `text` is a sitemap or a sitemap index.
    static func isSitemap(_ text: String) -> Bool {
        text.range(of: "<urlset", options: .caseInsensitive) != nil
            || text.range(of: "<sitemapindex", options: .caseInsensitive) != nil
    }
}
