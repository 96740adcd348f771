import Foundation

/// PDF through poppler's `pdftotext`, run in the ``Sandbox``: one block per paragraph, each with
/// its page number (pdftotext ends every page with a form feed).
struct PDFReader: Sendable {
    var sandbox: Sandbox
    var executable = "pdftotext"

    func read(_ bytes: Data) async throws -> ExtractedDocument {
        guard bytes.starts(with: Array("%PDF-".utf8)) else {
            throw ExtractionFailure("The file is not a PDF (it does not start with %PDF-).")
        }
        let outcome = try await sandbox.withTemporaryFile(bytes, suffix: ".pdf") { path in
            try await sandbox.run(executable, ["-q", "-enc", "UTF-8", "-eol", "unix", path, "-"])
        }
        if outcome.timedOut { throw ExtractionFailure("Reading the PDF took too long; it may be damaged or hostile.") }
        if outcome.outputTruncated { throw ExtractionFailure("The PDF holds more text than a document may have.") }
        guard outcome.succeeded else {
            throw ExtractionFailure(outcome.signalled
                ? "Reading the PDF used too many resources; it may be damaged or hostile."
                : "The PDF could not be read; it may be damaged, truncated or encrypted.")
        }
        let text = String(decoding: outcome.output, as: UTF8.self)
        var blocks: [TextBlock] = []
        for (index, page) in text.split(separator: "\u{0C}", omittingEmptySubsequences: false).enumerated() {
            for block in PlainTextReader.paragraphs(of: page.split(separator: "\n", omittingEmptySubsequences: false)) {
                blocks.append(TextBlock(.paragraph, HTMLReader.collapse(block.text), page: index + 1))
            }
        }
        guard !blocks.isEmpty else {
            throw ExtractionFailure("The PDF has no text layer (a scan?); text recognition is not supported.")
        }
        return ExtractedDocument(blocks: blocks)
    }
}
