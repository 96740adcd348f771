import Foundation

/// A site's robots.txt (RFC 9309) as it applies to one crawler.
///
/// The group naming our product token (`ContexoBot`, case-insensitive) applies if there is one,
/// otherwise the `*` group, otherwise nothing is disallowed; several groups for the same agent are
/// merged. Among the `Allow`/`Disallow` rules matching a path (`*` matches any run of characters,
/// a final `$` anchors the end) the longest wins, and `Allow` wins a tie. An empty `Disallow`
/// disallows nothing; `/robots.txt` itself is always allowed.
public struct RobotsTxt: Sendable, Equatable {
    /// One `Allow` or `Disallow` line of the applicable group.
    struct Rule: Sendable, Equatable {
        var allows: Bool
        /// The normalised pattern bytes (see ``RobotsTxt/normalize(_:)``).
        var pattern: [UInt8]
    }

    let rules: [Rule]
    /// The `Sitemap:` addresses the file lists (they apply to every crawler).
    public let sitemaps: [String]

    /// Allows everything: what a missing robots.txt means.
    public static let allowAll = RobotsTxt(rules: [], sitemaps: [])

    init(rules: [Rule], sitemaps: [String]) {
        self.rules = rules
        self.sitemaps = sitemaps
    }

    /// Parses `text` for the crawler whose `User-Agent` (or bare product token) is `userAgent`.
    public init(_ text: String, userAgent: String = "ContexoBot") {
        let token = Self.productToken(userAgent)
        var ours: [Rule] = []
        var anyone: [Rule] = []
        var namesUs = false
        var agents: [String] = []
        var groupHasRules = false
        var sitemaps: [String] = []
        let body = text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text
        for rawLine in body.split(whereSeparator: \.isNewline) {
            var line = Substring(rawLine)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            switch key {
            case "user-agent":
                // A user-agent line after rules starts a new group.
                if groupHasRules { agents = []; groupHasRules = false }
                let agent = Self.productToken(value)
                agents.append(agent)
                if agent == token { namesUs = true }
            case "allow", "disallow":
                groupHasRules = true
                guard !value.isEmpty else { continue }
                let rule = Rule(allows: key == "allow", pattern: Self.normalize(value))
                if agents.contains(token) { ours.append(rule) }
                if agents.contains("*") { anyone.append(rule) }
            case "sitemap":
                if !value.isEmpty { sitemaps.append(value) }
            default:
                continue
            }
        }
        self.init(rules: namesUs ? ours : anyone, sitemaps: sitemaps)
    }

    /// Whether the crawler may fetch `path` (the URL's path and query, percent-encoded as sent).
    public func allows(path: String) -> Bool {
        let target = Self.normalize(path.isEmpty ? "/" : path)
        if target.elementsEqual("/robots.txt".utf8) { return true }
        var best: Rule?
        for rule in rules where Self.matches(rule.pattern, target) {
            guard let current = best else { best = rule; continue }
            if rule.pattern.count > current.pattern.count || (rule.pattern.count == current.pattern.count && rule.allows) {
                best = rule
            }
        }
        return best?.allows ?? true
    }

    /// `ContexoBot/1.0 (+https://…)` → `contexobot`.
    static func productToken(_ userAgent: String) -> String {
        let token = userAgent.prefix { $0 != "/" && !$0.isWhitespace }
        return token.lowercased()
    }

    /// Bytes compared the RFC 9309 way: non-ASCII and control octets percent-encoded, `%xx` of
    /// unreserved characters decoded, other `%xx` with upper-case hex digits.
    static func normalize(_ text: String) -> [UInt8] {
        let bytes = Array(text.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%"), index + 2 < bytes.count,
               let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) {
                let decoded = high << 4 | low
                if isUnreserved(decoded) { output.append(decoded) } else { output += percentEncoded(decoded) }
                index += 3
                continue
            }
            if byte >= 0x80 || byte <= 0x20 || byte == 0x7F { output += percentEncoded(byte) } else { output.append(byte) }
            index += 1
        }
        return output
    }

    /// Whether `pattern` (with `*` wildcards and an optional final `$`) matches the start of
    /// `path`, or all of it when anchored.
    static func matches(_ pattern: [UInt8], _ path: [UInt8]) -> Bool {
        var body = pattern[...]
        let anchored = body.last == UInt8(ascii: "$")
        if anchored { body = body.dropLast() }
        let parts = body.split(separator: UInt8(ascii: "*"), omittingEmptySubsequences: false)
        guard let first = parts.first, path.starts(with: first) else { return false }
        var position = first.count
        guard parts.count > 1 else { return !anchored || position == path.count }
        for part in parts.dropFirst().dropLast() {
            guard let found = find(part, in: path, from: position) else { return false }
            position = found + part.count
        }
        let last = parts[parts.count - 1]
        if anchored { return path.count - position >= last.count && path.suffix(last.count).elementsEqual(last) }
        return find(last, in: path, from: position) != nil
    }

    private static func find(_ needle: ArraySlice<UInt8>, in haystack: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty else { return start }
        var index = start
        while index + needle.count <= haystack.count {
            if haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }

    private static func percentEncoded(_ byte: UInt8) -> [UInt8] {
        let digits = Array("0123456789ABCDEF".utf8)
        return [UInt8(ascii: "%"), digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]]
    }
}
