import Foundation
import Platform

/// Small documents of every format, made by the tests themselves.
enum DocumentFixtures {
    /// A valid PDF with one page per entry of `pages` (Helvetica text lines), offsets computed.
    static func pdf(pages: [[String]]) -> Data {
        var objects: [String] = []
        let pageCount = pages.count
        // 1: catalog, 2: pages, 3: font, then per page: page object and content stream.
        let kids = (0..<pageCount).map { "\(4 + $0 * 2) 0 R" }.joined(separator: " ")
        objects.append("<< /Type /Catalog /Pages 2 0 R >>")
        objects.append("<< /Type /Pages /Kids [\(kids)] /Count \(pageCount) >>")
        objects.append("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
        for (index, lines) in pages.enumerated() {
            let content = "BT /F1 12 Tf 72 720 Td 16 TL " + lines.map { "(\(escape($0))) Tj T* " }.joined() + "ET"
            objects.append("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents \(5 + index * 2) 0 R /Resources << /Font << /F1 3 0 R >> >> >>")
            objects.append("<< /Length \(content.utf8.count) >>\nstream\n\(content)\nendstream")
        }
        var output = "%PDF-1.4\n"
        var offsets: [Int] = []
        for (index, object) in objects.enumerated() {
            offsets.append(output.utf8.count)
            output += "\(index + 1) 0 obj\n\(object)\nendobj\n"
        }
        let xref = output.utf8.count
        output += "xref\n0 \(objects.count + 1)\n0000000000 65535 f \n"
        for offset in offsets { output += String(format: "%010d 00000 n \n", offset) }
        output += "trailer\n<< /Size \(objects.count + 1) /Root 1 0 R >>\nstartxref\n\(xref)\n%%EOF\n"
        return Data(output.utf8)
    }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "(", with: "\\(")
            .replacingOccurrences(of: ")", with: "\\)")
    }

    /// A DOCX whose body has `paragraphs` (style, text); style nil for body text, e.g. "Heading1".
    static func docx(_ paragraphs: [(style: String?, text: String)]) async throws -> Data {
        let body = paragraphs.map { paragraph in
            let properties = paragraph.style.map { "<w:pPr><w:pStyle w:val=\"\($0)\"/></w:pPr>" } ?? ""
            return "<w:p>\(properties)<w:r><w:t xml:space=\"preserve\">\(xmlEscape(paragraph.text))</w:t></w:r></w:p>"
        }.joined()
        let document = """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>\(body)</w:body></w:document>
            """
        return try await zip(["[Content_Types].xml": "<?xml version=\"1.0\"?><Types/>", "word/document.xml": document])
    }

    /// A DOCX-shaped zip whose document.xml inflates to `megabytes` MB of zeros (compressed: ~1000×).
    static func zipBomb(megabytes: Int) async throws -> Data {
        try await python("""
            import io, sys, zipfile
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, 'w', zipfile.ZIP_DEFLATED) as archive:
                with archive.open('word/document.xml', 'w') as entry:
                    block = b'0' * (1 << 20)
                    for _ in range(\(megabytes)):
                        entry.write(block)
            sys.stdout.buffer.write(buffer.getvalue())
            """)
    }

    static func zip(_ files: [String: String]) async throws -> Data {
        let encoded = try JSONSerialization.data(withJSONObject: files).base64EncodedString()
        return try await python("""
            import base64, io, json, sys, zipfile
            files = json.loads(base64.b64decode('\(encoded)'))
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, 'w', zipfile.ZIP_DEFLATED) as archive:
                for name, text in files.items():
                    archive.writestr(name, text)
            sys.stdout.buffer.write(buffer.getvalue())
            """)
    }

    private static func python(_ script: String) async throws -> Data {
        let (ended, output) = try await ChildProcess.run("python3", ["-c", script], standardError: .inherit,
                                                         timeout: .seconds(60))
        guard ended == .exited(0) else { throw FixtureError(description: "python3 \(ended)") }
        return output
    }

    private static func xmlEscape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }

    struct FixtureError: Error, CustomStringConvertible { var description: String }
}
