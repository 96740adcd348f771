import Foundation

/// The links of an HTML page: `<a href>` targets in document order, resolved against the page's
/// address or its first `<base href>`, without fragments, http and https only (`mailto:`,
/// `javascript:`, `tel:` and the like are dropped). A tolerant scan in the manner of
/// ``HTMLReader`` (whose tag scanner it uses): attribute values quoted with `"` or `'` or not at
/// all, names in any case; comments, scripts and styles are skipped.
enum LinkExtractor {
    static func links(in html: String, pageURL: URL) -> [URL] {
        let (base, hrefs) = scan(html)
        let baseURL = base.flatMap { resolve($0, against: pageURL) } ?? pageURL
        var seen: Set<URL> = []
        var links: [URL] = []
        for href in hrefs {
            guard let url = resolve(href, against: baseURL), let scheme = url.scheme?.lowercased(),
                  scheme == "http" || scheme == "https", seen.insert(url).inserted else { continue }
            links.append(url)
        }
        return links
    }

    /// `href` trimmed (and rid of tabs and line breaks, as browsers do) and resolved against
    /// `base`, without its fragment; nil when it is not a valid address.
    static func resolve(_ href: String, against base: URL) -> URL? {
        let trimmed = href.trimmingCharacters(in: .whitespacesAndNewlines).filter { $0 != "\n" && $0 != "\r" && $0 != "\t" }
        guard !trimmed.isEmpty, let url = URL(string: trimmed, relativeTo: base)?.absoluteURL,
              var components = URLComponents(url: url, resolvingAgainstBaseURL: false) else { return nil }
        components.fragment = nil
        return components.url
    }

    /// The first `<base href>` and every `<a href>` value, entities decoded.
    static func scan(_ html: String) -> (base: String?, hrefs: [String]) {
        let bytes = Array(html.utf8)
        var base: String?
        var hrefs: [String] = []
        var index = 0
        while index < bytes.count {
            guard bytes[index] == UInt8(ascii: "<") else {
                index += 1
                continue
            }
            if bytes[index...].starts(with: "<!--".utf8) {
                index = find("-->", in: bytes, from: index + 4).map { $0 + 3 } ?? bytes.count
                continue
            }
            let start = index
            guard let tag = HTMLReader.Tag(bytes, at: start) else {
                index += 1
                continue
            }
            index = tag.end
            guard !tag.closing else { continue }
            switch tag.name {
            case "a", "base":
                let attributesStart = start + 1 + tag.name.utf8.count
                let attributesEnd = bytes[tag.end - 1] == UInt8(ascii: ">") ? tag.end - 1 : tag.end
                guard attributesStart <= attributesEnd,
                      let href = attributes(bytes[attributesStart..<attributesEnd])["href"] else { continue }
                if tag.name == "a" {
                    hrefs.append(href)
                } else if base == nil {
                    base = href
                }
            case "script", "style":
                if !tag.selfClosing { index = endOfRawText(tag.name, in: bytes, from: index) }
            default:
                continue
            }
        }
        return (base, hrefs)
    }

    /// The attributes of a start tag (the bytes between its name and its `>`), names lower-cased,
    /// values entity-decoded; the first of a repeated name wins, as in browsers.
    static func attributes(_ bytes: ArraySlice<UInt8>) -> [String: String] {
        var result: [String: String] = [:]
        var index = bytes.startIndex
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0C || byte == 0x0D }
        while index < bytes.endIndex {
            while index < bytes.endIndex, isSpace(bytes[index]) || bytes[index] == UInt8(ascii: "/") { index += 1 }
            let nameStart = index
            while index < bytes.endIndex, !isSpace(bytes[index]), bytes[index] != UInt8(ascii: "="),
                  bytes[index] != UInt8(ascii: "/") {
                index += 1
            }
            guard index > nameStart else {
                index += 1
                continue
            }
            let name = String(decoding: bytes[nameStart..<index], as: UTF8.self).lowercased()
            while index < bytes.endIndex, isSpace(bytes[index]) { index += 1 }
            var value = ""
            if index < bytes.endIndex, bytes[index] == UInt8(ascii: "=") {
                index += 1
                while index < bytes.endIndex, isSpace(bytes[index]) { index += 1 }
                if index < bytes.endIndex, bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "'") {
                    let quote = bytes[index]
                    let valueStart = index + 1
                    index = valueStart
                    while index < bytes.endIndex, bytes[index] != quote { index += 1 }
                    value = String(decoding: bytes[valueStart..<index], as: UTF8.self)
                    index = min(index + 1, bytes.endIndex)
                } else {
                    let valueStart = index
                    while index < bytes.endIndex, !isSpace(bytes[index]) { index += 1 }
                    value = String(decoding: bytes[valueStart..<index], as: UTF8.self)
                }
            }
            if result[name] == nil { result[name] = HTMLReader.decodeEntities(value) }
        }
        return result
    }

    /// The index after `</name>`, the end of a script's or style's raw text.
    private static func endOfRawText(_ name: String, in bytes: [UInt8], from start: Int) -> Int {
        var index = start
        while let open = find("</", in: bytes, from: index) {
            if let tag = HTMLReader.Tag(bytes, at: open), tag.closing, tag.name == name { return tag.end }
            index = open + 2
        }
        return bytes.count
    }

    private static func find(_ needle: String, in bytes: [UInt8], from start: Int) -> Int? {
        let needle = Array(needle.utf8)
        var index = start
        while index + needle.count <= bytes.count {
            if bytes[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}
