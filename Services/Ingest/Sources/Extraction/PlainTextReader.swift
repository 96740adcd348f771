import Foundation

/// Plain text and Markdown: paragraphs are separated by blank lines; Markdown's `#` lines are
/// headings, and its inline syntax (links, emphasis, code marks) is reduced to the words a reader sees.
enum PlainTextReader {
    static func plain(_ text: String) -> ExtractedDocument {
        ExtractedDocument(blocks: paragraphs(of: text.split(separator: "\n", omittingEmptySubsequences: false)))
    }

    static func markdown(_ text: String) -> ExtractedDocument {
        var blocks: [TextBlock] = []
        var paragraph: [Substring] = []
        var inFence = false
        func flush() {
            let joined = paragraph.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
            if !joined.isEmpty { blocks.append(TextBlock(.paragraph, inFence ? joined : inline(joined))) }
            paragraph.removeAll()
        }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.drop { $0 == " " }
            if trimmed.hasPrefix("```") || trimmed.hasPrefix("~~~") {
                flush()
                inFence.toggle()
                continue
            }
            if inFence {
                paragraph.append(line)
                continue
            }
            if let heading = heading(trimmed) {
                flush()
                blocks.append(heading)
            } else if trimmed.trimmingCharacters(in: .whitespaces).isEmpty {
                flush()
            } else if trimmed.allSatisfy({ "-*_= ".contains($0) }) && trimmed.count >= 3 {
                flush()  // a rule, or a setext underline
            } else {
                paragraph.append(line)
            }
        }
        flush()
        let title = blocks.first { if case .heading = $0.kind { true } else { false } }?.text
        return ExtractedDocument(title: title, blocks: blocks)
    }

    static func paragraphs(of lines: [Substring]) -> [TextBlock] {
        var blocks: [TextBlock] = []
        var current: [Substring] = []
        for line in lines {
            if line.allSatisfy(\.isWhitespace) {
                if !current.isEmpty { blocks.append(TextBlock(.paragraph, current.joined(separator: "\n"))) }
                current.removeAll()
            } else {
                current.append(line)
            }
        }
        if !current.isEmpty { blocks.append(TextBlock(.paragraph, current.joined(separator: "\n"))) }
        return blocks
    }

    private static func heading(_ line: Substring) -> TextBlock? {
        let hashes = line.prefix { $0 == "#" }.count
        guard (1...6).contains(hashes) else { return nil }
        let rest = line.dropFirst(hashes)
        guard rest.isEmpty || rest.first == " " else { return nil }
        let text = inline(String(rest).trimmingCharacters(in: CharacterSet(charactersIn: " #")))
        return text.isEmpty ? nil : TextBlock(.heading(level: hashes), text)
    }

    /// `[text](url)` → text, `![alt](src)` → alt, emphasis and code marks dropped. Works on the
    /// UTF-8 bytes (every marker is ASCII, so multi-byte characters pass through untouched).
    static func inline(_ text: String) -> String {
        let bytes = Array(text.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "!") || byte == UInt8(ascii: "["),
               let link = link(in: bytes, at: byte == UInt8(ascii: "!") ? index + 1 : index) {
                output.append(contentsOf: bytes[link.label])
                index = link.end
                continue
            }
            if byte == UInt8(ascii: "*") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "`") {
                index += 1
                continue
            }
            output.append(byte)
            index += 1
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// A `[label](target)` starting at `start`, looked for within 2,000 bytes (so a stray `[` in a
    /// long paragraph costs little).
    private static func link(in bytes: [UInt8], at start: Int) -> (label: Range<Int>, end: Int)? {
        guard start < bytes.count, bytes[start] == UInt8(ascii: "[") else { return nil }
        let window = min(bytes.count, start + 2000)
        guard let close = bytes[(start + 1)..<window].firstIndex(of: UInt8(ascii: "]")),
              close + 1 < window, bytes[close + 1] == UInt8(ascii: "("),
              let paren = bytes[(close + 2)..<window].firstIndex(of: UInt8(ascii: ")")) else { return nil }
        return ((start + 1)..<close, paren + 1)
    }
}
