import Foundation

/// The text of a document as structured blocks: what extraction produces and chunking follows.
/// Headings open sections, paragraphs fill them, and pages (PDF) are kept for citations.
public struct ExtractedDocument: Sendable, Equatable {
    /// A title found inside the document (HTML `<title>`, the first heading), if any.
    public var title: String?
    public var blocks: [TextBlock]

    public init(title: String? = nil, blocks: [TextBlock]) {
        self.title = title
        self.blocks = blocks
    }

    /// How many Unicode scalars of text the blocks hold.
    public var scalarCount: Int { blocks.reduce(0) { $0 + $1.text.unicodeScalars.count } }
}

/// One heading or paragraph of extracted text.
public struct TextBlock: Sendable, Equatable {
    /// What the block is in the document's structure.
    public enum Kind: Sendable, Equatable {
        case heading(level: Int)
        case paragraph
        /// Code kept verbatim, fenced (```` ```lang ````): never split while it fits a chunk, and
        /// then only between lines.
        case code
    }

    public var kind: Kind
    public var text: String
    /// The 1-based page the block is on, for paged formats.
    public var page: Int?

    public init(_ kind: Kind, _ text: String, page: Int? = nil) {
        self.kind = kind
        self.text = text
        self.page = page
    }
}

/// The formats Ingest reads.
public enum DocumentFormat: String, Sendable, CaseIterable {
    case plainText = "text/plain"
    case markdown = "text/markdown"
    case html = "text/html"
    case pdf = "application/pdf"
    case docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    case csv = "text/csv"

    /// The format a `Content-Type` names (parameters ignored), if Ingest reads it.
    public init?(contentType: String) {
        let media = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        switch media {
        case "text/plain": self = .plainText
        case "text/markdown", "text/x-markdown": self = .markdown
        case "text/html", "application/xhtml+xml": self = .html
        case "application/pdf": self = .pdf
        case DocumentFormat.docx.rawValue: self = .docx
        case "text/csv", "application/csv": self = .csv
        default: return nil
        }
    }

    /// The format a file name's extension suggests (for uploads sent as `application/octet-stream`).
    public init?(filename: String) {
        switch (filename as NSString).pathExtension.lowercased() {
        case "txt", "text": self = .plainText
        case "md", "markdown": self = .markdown
        case "html", "htm": self = .html
        case "pdf": self = .pdf
        case "docx": self = .docx
        case "csv": self = .csv
        default: return nil
        }
    }
}

/// Why a document could not be read: shown to the customer as the document's failure reason.
public struct ExtractionFailure: Error, Equatable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}
