import Foundation

/// CSV (RFC 4180: quoted fields, doubled quotes, line breaks inside quotes): the first row names
/// the columns, and each further row becomes a paragraph of `column: value` pairs, so a chunk
/// about a row still says what each value means.
enum CSVReader {
    static func read(_ text: String) throws -> ExtractedDocument {
        let rows = parse(text)
        guard let header = rows.first, !header.isEmpty else { throw ExtractionFailure("The CSV file is empty.") }
        let names = header.map { $0.trimmingCharacters(in: .whitespaces) }
        var blocks: [TextBlock] = []
        for row in rows.dropFirst() where !row.allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
            let pairs = row.enumerated().compactMap { index, value -> String? in
                let value = value.trimmingCharacters(in: .whitespacesAndNewlines)
                guard !value.isEmpty else { return nil }
                let name = index < names.count && !names[index].isEmpty ? names[index] : "column \(index + 1)"
                return "\(name): \(value)"
            }
            blocks.append(TextBlock(.paragraph, pairs.joined(separator: "; ")))
        }
        guard !blocks.isEmpty else { throw ExtractionFailure("The CSV file has a header but no rows.") }
        return ExtractedDocument(blocks: blocks)
    }

    static func parse(_ text: String) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var iterator = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = iterator.next()
        while let scalar = pending {
            pending = iterator.next()
            if quoted {
                if scalar == "\"" {
                    if pending == "\"" {
                        field.unicodeScalars.append("\"")
                        pending = iterator.next()
                    } else {
                        quoted = false
                    }
                } else {
                    field.unicodeScalars.append(scalar)
                }
                continue
            }
            switch scalar {
            case "\"" where field.isEmpty: quoted = true
            case ",":
                row.append(field)
                field = ""
            case "\r": continue
            case "\n":
                row.append(field)
                rows.append(row)
                row = []
                field = ""
            default: field.unicodeScalars.append(scalar)
            }
        }
        if !field.isEmpty || !row.isEmpty {
            row.append(field)
            rows.append(row)
        }
        return rows
    }
}
