import Foundation
import Testing

/// The README stays short enough to read, and every link in it, in SECURITY.md and in docs/
/// resolves inside the repository: the project stands on its own.
@Suite(.timeLimit(.minutes(5))) struct DocumentationTests {
    static let repository = SecurityDocumentTests.repository

    static func documents() throws -> [URL] {
        let docs = repository.appendingPathComponent("docs")
        let pages = try FileManager.default.contentsOfDirectory(at: docs, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "md" }
        return [repository.appendingPathComponent("README.md"), repository.appendingPathComponent("SECURITY.md")] + pages
    }

    /// The targets of `[text](target)` links.
    static func links(in text: String) -> [String] {
        let pattern = try! NSRegularExpression(pattern: #"\]\(([^)\s]+)\)"#)
        return pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)).map {
            String(text[Range($0.range(at: 1), in: text)!])
        }
    }

    @Test func theReadmeFitsOnAboutTwoScreens() throws {
        let lines = try String(contentsOf: Self.repository.appendingPathComponent("README.md"), encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count <= 120, "README.md has \(lines.count) lines; move details to docs/")
    }

    @Test func everyLinkResolvesInsideTheRepository() throws {
        let root = Self.repository.standardizedFileURL.path
        var checked = 0
        for document in try Self.documents() {
            let text = try String(contentsOf: document, encoding: .utf8)
            #expect(!text.contains("../shared"), "\(document.lastPathComponent) points outside the repository")
            for link in Self.links(in: text) where !link.hasPrefix("http://") && !link.hasPrefix("https://") && !link.hasPrefix("#") {
                let path = String(link.split(separator: "#", maxSplits: 1)[0])
                let target = document.deletingLastPathComponent().appendingPathComponent(path).standardizedFileURL.path
                #expect(target.hasPrefix(root + "/"), "\(document.lastPathComponent): \(link) leaves the repository")
                #expect(FileManager.default.fileExists(atPath: target), "\(document.lastPathComponent): \(link) does not exist")
                checked += 1
            }
        }
        #expect(checked >= 10, "too few links checked: \(checked)")
    }
}
