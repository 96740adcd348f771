import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Word documents: `word/document.xml` is taken out of the zip by `unzip` in the ``Sandbox``
/// (its output cap stops zip bombs), then read for paragraphs (`w:p`), their text runs (`w:t`)
/// and heading styles (`Heading1`…, `Title`).
struct DOCXReader: Sendable {
    var sandbox: Sandbox
    var executable = "unzip"

    func read(_ bytes: Data) async throws -> ExtractedDocument {
        guard bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) else {
            throw ExtractionFailure("The file is not a DOCX (not a zip archive).")
        }
        let outcome = try await sandbox.withTemporaryFile(bytes, suffix: ".docx") { path in
            try await sandbox.run(executable, ["-p", "-qq", path, "word/document.xml"])
        }
        if outcome.outputTruncated {
            throw ExtractionFailure("The DOCX expands to more than \(sandbox.outputLimitBytes >> 20) MB (a zip bomb?).")
        }
        if outcome.timedOut { throw ExtractionFailure("Unpacking the DOCX took too long; it may be damaged or hostile.") }
        guard outcome.succeeded, !outcome.output.isEmpty else {
            throw ExtractionFailure("The DOCX could not be unpacked, or has no word/document.xml.")
        }
        let parser = XMLParser(data: outcome.output)
        let collector = WordCollector()
        parser.delegate = collector
        parser.shouldResolveExternalEntities = false
        guard parser.parse() else {
            throw ExtractionFailure("The DOCX's document.xml is not well-formed XML.")
        }
        let title = collector.blocks.first { if case .heading = $0.kind { true } else { false } }?.text
        return ExtractedDocument(title: title, blocks: collector.blocks)
    }
}

/// Collects WordprocessingML paragraphs (used on one thread, by one parser).
private final class WordCollector: NSObject, XMLParserDelegate {
    var blocks: [TextBlock] = []
    private var paragraph = ""
    private var headingLevel: Int?
    private var inText = false

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        switch name {
        case "w:p":
            paragraph = ""
            headingLevel = nil
        case "w:t":
            inText = true
        case "w:tab":
            paragraph += "\t"
        case "w:br", "w:cr":
            paragraph += "\n"
        case "w:pStyle":
            let style = (attributes["w:val"] ?? "").lowercased()
            if style == "title" {
                headingLevel = 1
            } else if style.hasPrefix("heading"), let level = Int(style.dropFirst("heading".count)) {
                headingLevel = min(max(level, 1), 6)
            }
        default:
            break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if inText { paragraph += string }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        switch name {
        case "w:t":
            inText = false
        case "w:p":
            let text = paragraph.trimmingCharacters(in: .whitespacesAndNewlines)
            if !text.isEmpty { blocks.append(TextBlock(headingLevel.map { .heading(level: $0) } ?? .paragraph, text)) }
        default:
            break
        }
    }
}
