import Foundation

/// Plain text: paragraphs are separated by blank lines (Markdown has ``MarkdownReader``).
enum PlainTextReader {
    static func plain(_ text: String) -> ExtractedDocument {
        ExtractedDocument(blocks: paragraphs(of: text.split(separator: "\n", omittingEmptySubsequences: false)))
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
}
