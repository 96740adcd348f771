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

    /// `[text](url)` → text, `![alt](src)` → alt, emphasis and code marks dropped.
    static func inline(_ text: String) -> String {
        var output = ""
        output.reserveCapacity(text.utf8.count)
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if character == "!" || character == "[",
               let link = link(in: text, at: character == "!" ? text.index(after: index) : index) {
                output += link.label
                index = link.end
                continue
            }
            if character == "*" || character == "_" || character == "`" {
                index = text.index(after: index)
                continue
            }
            output.append(character)
            index = text.index(after: index)
        }
        return output
    }

    private static func link(in text: String, at start: String.Index) -> (label: String, end: String.Index)? {
        guard start < text.endIndex, text[start] == "[",
              let close = text[start...].firstIndex(of: "]") else { return nil }
        let afterClose = text.index(after: close)
        guard afterClose < text.endIndex, text[afterClose] == "(",
              let paren = text[afterClose...].firstIndex(of: ")") else { return nil }
        return (String(text[text.index(after: start)..<close]), text.index(after: paren))
    }
}
