@testable import Chat
import Foundation
import Platform
@testable import Ingest
import Testing
import TestSupport

/// Issue 17's four defects, each checked on the real document it was seen in, as Debian installs
/// it (redis-server comes with the test stack; systemd and zstd with the machine's image).
@Suite(.timeLimit(.minutes(5))) struct RealDocumentTests {
    static let redisReadme = "/usr/share/doc/redis-server/README.md.gz"
    static let systemdEnvironment = "/usr/share/doc/systemd/ENVIRONMENT.md.gz"
    static let zstdContributing = "/usr/share/doc/zstd/CONTRIBUTING.md.gz"

    static func chunks(_ path: String) async throws -> (text: String, chunks: [Chunk]) {
        let (ended, output) = try await ChildProcess.run("/bin/sh", ["-c", "gzip -dc '\(path)'"], timeout: .seconds(30))
        #expect(ended == .exited(0) && !output.isEmpty, "\(path) is missing: install its Debian package")
        let document = try await Extractor(maximumCharacters: 5_000_000).extract(output, format: .markdown)
        return (document.blocks.map(\.text).joined(separator: "\n"), Chunker().chunks(of: document))
    }

    @Test func theRedisReadmesSetextHeadingsNameEveryChunkAndCodeBlocksStayWhole() async throws {
        let (_, chunks) = try await Self.chunks(Self.redisReadme)
        #expect(chunks.count > 10)
        let headed = chunks.filter { !$0.heading.isEmpty }.count
        #expect(Double(headed) >= 0.9 * Double(chunks.count), "\(headed) of \(chunks.count) chunks have a heading path")
        let distclean = try #require(chunks.first { $0.text.contains("make distclean") })
        #expect(distclean.heading == "Fixing build problems with dependencies or cached build options", "\(distclean.heading)")
        #expect(distclean.text.contains("```"), "the command stays a code block")
        // No chunk ends or starts inside a code block: fences come in pairs.
        for chunk in chunks {
            #expect(chunk.text.components(separatedBy: "```").count % 2 == 1, "a fence split in \(chunk.heading)")
        }
    }

    @Test func systemdsVariablesKeepTheirUnderscores() async throws {
        let (text, chunks) = try await Self.chunks(Self.systemdEnvironment)
        #expect(text.contains("$SYSTEMD_SECCOMP=0"))
        #expect(!text.contains("SYSTEMDSECCOMP"))
        let answer = AnswerComposer.compose(question: "How do I turn off seccomp filters in systemd?",
                                            passages: chunks.filter { $0.text.contains("SECCOMP") }.map(\.text))
        #expect(answer?.contains("$SYSTEMD_SECCOMP=0") == true, "\(answer ?? "no answer")")
    }

    @Test func sentencesOfRealDocumentsNeverCutAnAddress() async throws {
        let addresses = try NSRegularExpression(pattern: #"https?://[^\s<>()\[\]`"']+[^\s<>()\[\]`"'.,;:!?]"#)
        var checked = 0
        for path in [Self.redisReadme, Self.zstdContributing] {
            for chunk in try await Self.chunks(path).chunks {
                let units = AnswerComposer.units(chunk.text).map(\.text)
                let range = NSRange(chunk.text.startIndex..., in: chunk.text)
                for match in addresses.matches(in: chunk.text, range: range) {
                    let address = String(chunk.text[Range(match.range, in: chunk.text)!])
                    #expect(units.contains { $0.contains(address) }, "\(address) is cut in \(path)")
                    checked += 1
                }
            }
        }
        #expect(checked > 10, "only \(checked) addresses found")
    }

    @Test func overlappingChunksOfARealDocumentAreQuotedOnce() async throws {
        // Two neighbouring chunks of one long section share their overlap; an answer quotes it once.
        var pairs = 0
        for path in [Self.systemdEnvironment, Self.zstdContributing, Self.redisReadme] {
            let chunks = try await Self.chunks(path).chunks
            for index in chunks.indices.dropLast()
            where chunks[index].heading == chunks[index + 1].heading && chunks[index].characterEnd > chunks[index + 1].characterStart {
                let overlap = chunks[index + 1].text.split(separator: " ").prefix(12).joined(separator: " ")
                guard let answer = AnswerComposer.compose(question: overlap, passages: [chunks[index].text, chunks[index + 1].text],
                                                          limit: 6) else { continue }
                let quoted = AnswerComposer.units(answer).map {
                    $0.text.replacingOccurrences(of: #"\s*\[\d\]$"#, with: "", options: .regularExpression)
                }
                #expect(Set(quoted).count == quoted.count, "\(path): \(answer)")
                pairs += 1
            }
        }
        #expect(pairs >= 1, "no overlapping pair of chunks found")
    }
}
