import Foundation

/// HTML to blocks: headings kept as headings, block elements as paragraph breaks, and scripts,
/// styles and page chrome (navigation, header, footer, forms) dropped with everything inside them.
/// A tolerant scanner, not a validating parser: broken markup loses structure, never text.
enum HTMLReader {
    /// Elements whose whole content is not reading text.
    static let skipped: Set<String> = [
        "script", "style", "noscript", "template", "svg", "nav", "footer", "aside", "form",
        "iframe", "object", "canvas", "select", "button",
    ]
    /// Elements that end a paragraph.
    static let blockElements: Set<String> = [
        "p", "div", "br", "li", "ul", "ol", "tr", "table", "section", "article", "main", "blockquote",
        "pre", "hr", "dl", "dt", "dd", "figure", "figcaption", "body", "html", "td", "th", "header", "head",
    ]

    static func read(_ html: String) -> ExtractedDocument {
        let bytes = Array(html.utf8)
        var blocks: [TextBlock] = []
        var text: [UInt8] = []
        var title: String?
        var headingLevel: Int?
        var index = 0
        func flush() {
            let value = collapse(decodeEntities(String(decoding: text, as: UTF8.self)))
            text.removeAll(keepingCapacity: true)
            guard !value.isEmpty else { return }
            if let level = headingLevel {
                blocks.append(TextBlock(.heading(level: level), value))
            } else {
                blocks.append(TextBlock(.paragraph, value))
            }
        }
        while index < bytes.count {
            guard bytes[index] == UInt8(ascii: "<") else {
                text.append(bytes[index])
                index += 1
                continue
            }
            if bytes[index...].starts(with: Array("<!--".utf8)) {
                index = find(Array("-->".utf8), in: bytes, from: index + 4).map { $0 + 3 } ?? bytes.count
                continue
            }
            guard let tag = Tag(bytes, at: index) else {
                text.append(bytes[index])
                index += 1
                continue
            }
            index = tag.end
            if tag.name == "title", !tag.closing {
                let end = find(Array("</".utf8), in: bytes, from: index) ?? bytes.count
                title = collapse(decodeEntities(String(decoding: bytes[index..<end], as: UTF8.self)))
                index = end
                continue
            }
            if skipped.contains(tag.name), !tag.closing, !tag.selfClosing {
                index = skipElement(tag.name, in: bytes, from: index)
                continue
            }
            if tag.name == "pre", !tag.closing {
                // Preformatted text is code: its lines and spacing as written, inner tags dropped.
                flush()
                let end = find(Array("</pre".utf8), in: bytes, from: index) ?? bytes.count
                let code = decodeEntities(stripTags(bytes[index..<end])).trimmingCharacters(in: .newlines)
                if !code.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                    blocks.append(TextBlock(.code, "```\n\(code)\n```"))
                }
                index = end
                continue
            }
            if tag.name == "code" {
                text.append(UInt8(ascii: "`"))
                continue
            }
            if tag.name.count == 2, tag.name.first == "h", let level = Int(tag.name.dropFirst()), (1...6).contains(level) {
                flush()
                headingLevel = tag.closing ? nil : level
            } else if blockElements.contains(tag.name) {
                flush()
            } else {
                text.append(UInt8(ascii: " "))
            }
        }
        flush()
        if title?.isEmpty ?? true {
            title = blocks.first { if case .heading = $0.kind { true } else { false } }?.text
        }
        return ExtractedDocument(title: title, blocks: blocks)
    }

    /// The text of `bytes` with every tag removed (comments too).
    private static func stripTags(_ bytes: ArraySlice<UInt8>) -> String {
        var output: [UInt8] = []
        var index = bytes.startIndex
        while index < bytes.endIndex {
            if bytes[index] == UInt8(ascii: "<"), let close = bytes[index...].firstIndex(of: UInt8(ascii: ">")) {
                index = close + 1
            } else {
                output.append(bytes[index])
                index += 1
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// The index after the element's matching close tag (nested same-name elements counted).
    private static func skipElement(_ name: String, in bytes: [UInt8], from start: Int) -> Int {
        var depth = 1
        var index = start
        while index < bytes.count {
            guard bytes[index] == UInt8(ascii: "<"), let tag = Tag(bytes, at: index) else {
                index += 1
                continue
            }
            index = tag.end
            // Script and style content is raw text: only their own close tag ends them.
            guard tag.name == name else { continue }
            if tag.closing { depth -= 1 } else if !tag.selfClosing, name != "script", name != "style" { depth += 1 }
            if depth == 0 { return index }
        }
        return bytes.count
    }

    private static func find(_ needle: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, bytes.count >= needle.count else { return nil }
        var index = start
        while index + needle.count <= bytes.count {
            if bytes[index] == needle[0], bytes[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }

    static func collapse(_ text: String) -> String {
        text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    static func decodeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var output = ""
        var rest = Substring(text)
        while let amp = rest.firstIndex(of: "&") {
            output += rest[..<amp]
            let after = rest[amp...]
            if let semicolon = after.prefix(40).firstIndex(of: ";"),
               let decoded = entity(String(after[after.index(after: amp)..<semicolon])) {
                output += decoded
                rest = after[after.index(after: semicolon)...]
            } else {
                output += "&"
                rest = after.dropFirst()
            }
        }
        return output + rest
    }

    private static func entity(_ name: String) -> String? {
        guard name.hasPrefix("#") else { return name == "nbsp" ? " " : HTMLEntities.named[name] }
        let digits = name.dropFirst()
        let value = digits.first == "x" || digits.first == "X" ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits)
        return value.flatMap(Unicode.Scalar.init).map { String(Character($0)) }
    }

    /// A tag starting at `<`: its lower-cased name, whether it closes, and where it ends.
    struct Tag {
        var name: String
        var closing: Bool
        var selfClosing: Bool
        var end: Int

        init?(_ bytes: [UInt8], at start: Int) {
            var index = start + 1
            closing = index < bytes.count && bytes[index] == UInt8(ascii: "/")
            if closing { index += 1 }
            let nameStart = index
            while index < bytes.count, Self.isNameByte(bytes[index]) { index += 1 }
            guard index > nameStart else {
                // `<!DOCTYPE …>` and `<?xml …?>` are skipped whole; a lone `<` is text.
                guard index < bytes.count, bytes[index] == UInt8(ascii: "!") || bytes[index] == UInt8(ascii: "?") else { return nil }
                while index < bytes.count, bytes[index] != UInt8(ascii: ">") { index += 1 }
                name = "!"
                selfClosing = true
                end = min(index + 1, bytes.count)
                return
            }
            name = String(decoding: bytes[nameStart..<index], as: UTF8.self).lowercased()
            var quote: UInt8?
            while index < bytes.count {
                let byte = bytes[index]
                if let open = quote {
                    if byte == open { quote = nil }
                } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                    quote = byte
                } else if byte == UInt8(ascii: ">") {
                    break
                }
                index += 1
            }
            selfClosing = index > 0 && index < bytes.count && bytes[index - 1] == UInt8(ascii: "/")
            end = min(index + 1, bytes.count)
        }

        private static func isNameByte(_ byte: UInt8) -> Bool {
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-")
        }
    }
}
