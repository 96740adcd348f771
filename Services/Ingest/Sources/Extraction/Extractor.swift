import Foundation
import NIOPosix

/// Turns a document's bytes into structured text, by format, within limits: at most
/// `maximumCharacters` of text, and converters sandboxed (see ``Sandbox``).
public struct Extractor: Sendable {
    public var maximumCharacters: Int
    var sandbox: Sandbox

    public init(maximumCharacters: Int = 5_000_000, converterTimeLimit: Duration = .seconds(30),
                converterMemoryBytes: Int = 512 << 20) {
        self.maximumCharacters = maximumCharacters
        self.sandbox = Sandbox(timeLimit: converterTimeLimit, memoryLimitBytes: converterMemoryBytes,
                               outputLimitBytes: maximumCharacters * 4)
    }

    public func extract(_ bytes: Data, format: DocumentFormat) async throws -> ExtractedDocument {
        let document: ExtractedDocument
        switch format {
        case .pdf: document = try await PDFReader(sandbox: sandbox).read(bytes)
        case .docx: document = try await DOCXReader(sandbox: sandbox).read(bytes)
        default:
            // Text parsing is CPU work: it runs on NIO's thread pool, off the cooperative pool.
            document = try await NIOThreadPool.singleton.runIfActive { try Self.read(bytes, format: format) }
        }
        let characters = document.scalarCount
        guard characters > 0 else { throw ExtractionFailure("The document contains no text.") }
        guard characters <= maximumCharacters else {
            throw ExtractionFailure("The document has \(characters) characters of text; at most \(maximumCharacters) are indexed.")
        }
        return document
    }

    static func read(_ bytes: Data, format: DocumentFormat) throws -> ExtractedDocument {
        switch format {
        case .markdown: MarkdownReader.read(try text(bytes))
        case .html: HTMLReader.read(try text(bytes))
        case .csv: try CSVReader.read(try text(bytes))
        case .plainText, .pdf, .docx: PlainTextReader.plain(try text(bytes))
        }
    }

    /// Text formats must be UTF-8 (a byte-order mark is dropped); binary data is refused.
    private static func text(_ bytes: Data) throws -> String {
        var bytes = bytes
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        guard let text = String(data: bytes, encoding: .utf8) else {
            throw ExtractionFailure("The file is not valid UTF-8 text.")
        }
        if text.utf8.contains(0) { throw ExtractionFailure("The file contains binary data, not text.") }
        return text
    }
}
