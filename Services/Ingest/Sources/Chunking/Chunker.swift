/// A piece of a document small enough to embed and to quote, with what a citation needs.
public struct Chunk: Sendable, Equatable {
    public var ordinal: Int
    public var text: String
    /// The headings above the chunk, outermost first, joined by " › ".
    public var heading: String
    public var page: Int?
    /// Where the chunk's text starts and ends in the document's extracted text (Unicode scalars,
    /// blocks joined by a blank line), so a citation can point into it.
    public var characterStart: Int
    public var characterEnd: Int
    /// Whitespace-separated words (see ``Chunker``).
    public var tokens: Int
}

/// Splits extracted text into chunks that follow its structure: a heading or a new page always
/// starts a new chunk; within a section, paragraphs are packed up to `tokenBudget` tokens, a cut
/// falls on a paragraph end when one lies in the back half of the window, and a cut inside a
/// paragraph repeats the last `overlap` tokens at the start of the next chunk.
///
/// A token here is a run of non-whitespace characters (a word with its punctuation), capped at
/// `maximumTokenLength` characters so text without spaces is still cut. For English prose that is
/// about 0.75 of a BPE token count, so the default budget of 200 stays well under embedding
/// models' input limits.
public struct Chunker: Sendable {
    public var tokenBudget: Int
    public var overlap: Int
    public var maximumTokenLength: Int

    public init(tokenBudget: Int = 200, overlap: Int = 30, maximumTokenLength: Int = 64) {
        precondition(tokenBudget > 0 && overlap >= 0 && overlap < tokenBudget && maximumTokenLength > 0)
        self.tokenBudget = tokenBudget
        self.overlap = overlap
        self.maximumTokenLength = maximumTokenLength
    }

    public func chunks(of document: ExtractedDocument) -> [Chunk] {
        var chunks: [Chunk] = []
        var headings: [(level: Int, text: String)] = []
        var section = Section()
        var offset = 0
        func close() {
            pack(section, heading: headings.map(\.text).joined(separator: " › "), into: &chunks)
            section = Section()
        }
        for (index, block) in document.blocks.enumerated() {
            if index > 0 { offset += 2 }  // the blank line between blocks
            let scalars = Array(block.text.unicodeScalars)
            defer { offset += scalars.count }
            switch block.kind {
            case .heading(let level):
                close()
                headings.removeAll { $0.level >= level }
                headings.append((level, block.text))
            case .paragraph, .code:
                if section.page != block.page, !section.tokens.isEmpty { close() }
                section.page = block.page
                section.add(scalars, at: offset, maximumTokenLength: maximumTokenLength, code: block.kind == .code ? index : nil)
            }
        }
        close()
        return chunks
    }

    private func pack(_ section: Section, heading: String, into chunks: inout [Chunk]) {
        let tokens = section.tokens
        var start = 0
        while start < tokens.count {
            var end = min(start + tokenBudget, tokens.count)
            var clean = end == tokens.count
            if !clean {
                // Prefer ending at a paragraph end in the back half of the window.
                if let boundary = ((start + tokenBudget / 2)..<end).last(where: { tokens[$0].endsParagraph }) {
                    end = boundary + 1
                    clean = true
                } else if tokens[end - 1].endsParagraph {
                    clean = true
                }
            }
            if !clean, let block = tokens[end - 1].code, tokens[end].code == block {
                // Inside a code block: end before it, or, when it alone is longer than a chunk,
                // between two of its lines; code is never repeated as overlap.
                let blockStart = tokens[start..<end].firstIndex { $0.code == block }!
                if blockStart > start {
                    end = blockStart
                } else if let line = (start..<(end - 1)).last(where: { tokens[$0].endsLine }) {
                    end = line + 1
                }
                clean = true
            }
            let first = tokens[start], last = tokens[end - 1]
            let text = String(String.UnicodeScalarView(section.scalars[first.start..<last.end]))
            chunks.append(Chunk(
                ordinal: chunks.count, text: text, heading: heading, page: section.page,
                characterStart: section.offsets[first.start], characterEnd: section.offsets[last.end - 1] + 1,
                tokens: end - start))
            if end == tokens.count { break }
            start = clean ? end : max(end - overlap, start + 1)
        }
    }

    /// The paragraphs of one section, as one scalar buffer with its word boundaries.
    private struct Section {
        var scalars: [Unicode.Scalar] = []
        /// Each scalar's offset in the document's text.
        var offsets: [Int] = []
        var tokens: [Token] = []
        var page: Int?

        struct Token {
            var start: Int
            var end: Int
            var endsParagraph = false
            /// The code block the token is in (its block index), if any.
            var code: Int?
            /// The last token on its line.
            var endsLine = false
        }

        /// A web address is one token however long (a cut inside it would cite a broken link).
        static let longTokenPrefixes: [[Unicode.Scalar]] = ["https://", "http://"].map { Array($0.unicodeScalars) }

        mutating func add(_ paragraph: [Unicode.Scalar], at offset: Int, maximumTokenLength: Int, code: Int? = nil) {
            if !scalars.isEmpty {
                scalars.append("\n")
                scalars.append("\n")
                offsets.append(offsets.last! + 1)
                offsets.append(offsets.last! + 1)
            }
            let base = scalars.count
            scalars.append(contentsOf: paragraph)
            offsets.append(contentsOf: offset..<(offset + paragraph.count))
            let before = tokens.count
            var index = 0
            while index < paragraph.count {
                while index < paragraph.count, paragraph[index].properties.isWhitespace {
                    if paragraph[index] == "\n", tokens.count > before { tokens[tokens.count - 1].endsLine = true }
                    index += 1
                }
                let start = index
                let limit = Self.longTokenPrefixes.contains { prefix in
                    paragraph.count - start >= prefix.count && Array(paragraph[start..<(start + prefix.count)]) == prefix
                } ? 2048 : maximumTokenLength
                while index < paragraph.count, !paragraph[index].properties.isWhitespace, index - start < limit {
                    index += 1
                }
                if index > start { tokens.append(Token(start: base + start, end: base + index, code: code)) }
            }
            if tokens.count > before { tokens[tokens.count - 1].endsParagraph = true }
        }
    }
}
