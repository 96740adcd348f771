import Foundation
@testable import Ingest
import Testing

/// Chunks follow the document's structure, stay within the budget, overlap only where a cut falls
/// inside a paragraph, and carry offsets that point back at their exact text.
@Suite(.timeLimit(.minutes(5))) struct ChunkerTests {
    static func words(_ count: Int, prefix: String) -> String {
        (0..<count).map { "\(prefix)\($0)" }.joined(separator: " ")
    }

    /// The document's extracted text as the offsets see it: blocks joined by a blank line.
    static func fullText(_ document: ExtractedDocument) -> [Unicode.Scalar] {
        Array(document.blocks.map(\.text).joined(separator: "\n\n").unicodeScalars)
    }

    @Test func headingsStartChunksAndFormTheirPath() {
        let document = ExtractedDocument(blocks: [
            TextBlock(.heading(level: 1), "Guide"), TextBlock(.paragraph, "Intro text."),
            TextBlock(.heading(level: 2), "Billing"), TextBlock(.paragraph, "Invoices monthly."),
            TextBlock(.heading(level: 3), "Refunds"), TextBlock(.paragraph, "Within 14 days."),
            TextBlock(.heading(level: 2), "Support"), TextBlock(.paragraph, "Email us."),
        ])
        let chunks = Chunker().chunks(of: document)
        #expect(chunks.map(\.heading) == ["Guide", "Guide › Billing", "Guide › Billing › Refunds", "Guide › Support"])
        #expect(chunks.map(\.text) == ["Intro text.", "Invoices monthly.", "Within 14 days.", "Email us."])
        #expect(chunks.map(\.ordinal) == [0, 1, 2, 3])
    }

    @Test func offsetsPointAtTheChunksText() {
        let document = ExtractedDocument(blocks: [
            TextBlock(.heading(level: 1), "Café"), TextBlock(.paragraph, "Ünïcode 👍 text here."),
            TextBlock(.paragraph, Self.words(500, prefix: "w")),
        ])
        let text = Self.fullText(document)
        for chunk in Chunker(tokenBudget: 100, overlap: 10).chunks(of: document) {
            let slice = String(String.UnicodeScalarView(text[chunk.characterStart..<chunk.characterEnd]))
            #expect(slice == chunk.text)
        }
    }

    @Test func longSectionsArePackedWithinBudgetAndOverlapInsideParagraphs() {
        let document = ExtractedDocument(blocks: [TextBlock(.paragraph, Self.words(1000, prefix: "t"))])
        let chunks = Chunker(tokenBudget: 200, overlap: 30).chunks(of: document)
        #expect(chunks.allSatisfy { $0.tokens <= 200 })
        #expect(chunks.first?.text.hasPrefix("t0 t1") == true)
        #expect(chunks.last?.text.hasSuffix("t999") == true)
        // Consecutive chunks share exactly the overlap.
        for (previous, next) in zip(chunks, chunks.dropFirst()) {
            let tail = previous.text.split(separator: " ").suffix(30)
            #expect(next.text.split(separator: " ").prefix(30).elementsEqual(tail))
        }
    }

    @Test func paragraphEndsArePreferredCutsAndNeedNoOverlap() {
        let document = ExtractedDocument(blocks: [
            TextBlock(.paragraph, Self.words(150, prefix: "a")), TextBlock(.paragraph, Self.words(150, prefix: "b")),
        ])
        let chunks = Chunker(tokenBudget: 200, overlap: 30).chunks(of: document)
        #expect(chunks.count == 2)
        #expect(chunks[0].text == Self.words(150, prefix: "a"))
        #expect(chunks[1].text == Self.words(150, prefix: "b"))
    }

    @Test func pagesAreKeptAndNeverMixed() {
        let document = ExtractedDocument(blocks: [
            TextBlock(.paragraph, "Page one.", page: 1), TextBlock(.paragraph, "Still one.", page: 1),
            TextBlock(.paragraph, "Page two.", page: 2),
        ])
        let chunks = Chunker().chunks(of: document)
        #expect(chunks.map(\.page) == [1, 2])
        #expect(chunks[0].text == "Page one.\n\nStill one.")
    }

    @Test func textWithoutSpacesIsStillCut() {
        let line = String(repeating: "x", count: 100_000)
        let chunks = Chunker(tokenBudget: 100, overlap: 10, maximumTokenLength: 50).chunks(of: ExtractedDocument(blocks: [TextBlock(.paragraph, line)]))
        #expect(chunks.allSatisfy { $0.text.count <= 100 * 50 })
        #expect(chunks.count > 10)
    }

    /// Issue 17: a code block is never split while it fits a chunk (the chunk ends before it
    /// instead), a longer one only between its lines, and a long URL is one token.
    @Test func codeBlocksAndURLsAreNeverCutThrough() {
        let code = "```sh\n" + (0..<12).map { "make test_\($0) --verbose" }.joined(separator: "\n") + "\n```"
        let document = ExtractedDocument(blocks: [
            TextBlock(.paragraph, Self.words(30, prefix: "p")), TextBlock(.code, code), TextBlock(.paragraph, "after"),
        ])
        let chunks = Chunker(tokenBudget: 40, overlap: 5).chunks(of: document)
        #expect(chunks.contains { $0.text.hasPrefix("```sh") && $0.text.contains("make test_11 --verbose\n```") },
                "the block whole, in one chunk: \(chunks.map(\.text))")
        #expect(chunks.filter { $0.text.contains("make test_") }.count == 1)

        let long = "```\n" + (0..<40).map { "line\($0) with four words" }.joined(separator: "\n") + "\n```"
        let split = Chunker(tokenBudget: 30, overlap: 5).chunks(of: ExtractedDocument(blocks: [TextBlock(.code, long)]))
        #expect(split.count > 1)
        for chunk in split.dropLast() {
            #expect(chunk.text.hasSuffix("words"), "cut between lines: \(chunk.text.suffix(30))")
        }
        #expect(split.map(\.tokens).reduce(0, +) == Array(long.split(whereSeparator: \.isWhitespace)).count, "no code repeated")

        let url = "https://example.com/" + String(repeating: "segment/", count: 30) + "end"
        let linked = Chunker(tokenBudget: 100, overlap: 10, maximumTokenLength: 64)
            .chunks(of: ExtractedDocument(blocks: [TextBlock(.paragraph, "See \(url) for more.")]))
        #expect(linked.count == 1 && linked[0].text.contains(url) && linked[0].tokens == 4)
    }
}
