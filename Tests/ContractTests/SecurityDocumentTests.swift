import Foundation
import Testing

/// SECURITY.md maps every claim of the security page's sections 1–9 to the tests that prove it.
/// This keeps that map true: every claim has an entry, and every test or script it names exists.
@Suite(.timeLimit(.minutes(5))) struct SecurityDocumentTests {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The bullets of sections 1–9 of the security page.
    static let claims: [Int: Int] = [1: 3, 2: 2, 3: 3, 4: 2, 5: 4, 6: 4, 7: 4, 8: 3, 9: 3]

    static func document() throws -> String {
        try String(contentsOf: repository.appendingPathComponent("SECURITY.md"), encoding: .utf8)
    }

    /// Every Swift source under Tests/, concatenated per file.
    static func testSources() throws -> [String] {
        let tests = repository.appendingPathComponent("Tests")
        let files = FileManager.default.enumerator(at: tests, includingPropertiesForKeys: nil)?
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" } ?? []
        return try files.map { try String(contentsOf: $0, encoding: .utf8) }
    }

    /// `Suite/test` names in backticks.
    static func namedTests(in text: String) -> [(suite: String, test: String)] {
        let pattern = try! NSRegularExpression(pattern: "`([A-Z][A-Za-z0-9]*Tests)/([a-z][A-Za-z0-9]*)`")
        return pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)).map { match in
            (String(text[Range(match.range(at: 1), in: text)!]), String(text[Range(match.range(at: 2), in: text)!]))
        }
    }

    @Test func everyClaimOfSectionsOneToNineHasAnEntry() throws {
        let text = try Self.document()
        for (section, bullets) in Self.claims {
            for bullet in 1...bullets {
                let heading = "### S\(section).\(bullet) "
                #expect(text.contains(heading), "SECURITY.md has no entry \(heading)")
                // Each entry names a test or says whose duty it is.
                guard let start = text.range(of: heading) else { continue }
                let rest = text[start.upperBound...]
                let entry = rest.range(of: "\n### ").map { rest[..<$0.lowerBound] } ?? rest
                let proven = !Self.namedTests(in: String(entry)).isEmpty || entry.contains("`scripts/")
                #expect(proven || entry.contains("Operator's duty") || entry.contains("**Open:**"),
                        "S\(section).\(bullet) names no test, no operator's duty and nothing open")
            }
        }
    }

    @Test func everyNamedTestAndScriptExists() throws {
        let text = try Self.document()
        let sources = try Self.testSources()
        let named = Self.namedTests(in: text)
        #expect(named.count >= 40, "SECURITY.md names too few tests: \(named.count)")
        for (suite, test) in named {
            let found = sources.contains { source in
                source.contains("struct \(suite)") && source.contains("func \(test)(")
            }
            #expect(found, "SECURITY.md names \(suite)/\(test), which does not exist")
        }
        let scripts = try NSRegularExpression(pattern: "`(scripts/[A-Za-z0-9._/-]+)`")
        for match in scripts.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            let path = String(text[Range(match.range(at: 1), in: text)!])
            #expect(FileManager.default.fileExists(atPath: Self.repository.appendingPathComponent(path).path), "\(path) is missing")
        }
    }
}
