import Foundation
@testable import Ingest
import Testing

/// Every format Ingest reads, from fixture files the tests make, and the hostile ones it must
/// refuse with a reason without harm: a truncated PDF, a zip bomb, binary data posing as text.
@Suite(.timeLimit(.minutes(5))) struct ExtractionTests {
    let extractor = Extractor(maximumCharacters: 100_000)

    static func paragraphs(_ document: ExtractedDocument) -> [String] {
        document.blocks.filter { $0.kind == .paragraph }.map(\.text)
    }

    static func headings(_ document: ExtractedDocument) -> [String] {
        document.blocks.compactMap { if case .heading = $0.kind { $0.text } else { nil } }
    }

    @Test func plainTextIsSplitIntoParagraphs() async throws {
        let document = try await extractor.extract(Data("First line\nstill first.\n\n\nSecond.\n".utf8), format: .plainText)
        #expect(Self.paragraphs(document) == ["First line\nstill first.", "Second."])
    }

    @Test func markdownKeepsHeadingsAndDropsInlineSyntax() async throws {
        let markdown = """
            # Refunds
            Read **carefully**: see [the policy](https://example.com/p) and `code`.

            ## Timing
            ![diagram](d.png) Refunds take *14 days*.
            ```
            keep **this** as is
            ```
            """
        let document = try await extractor.extract(Data(markdown.utf8), format: .markdown)
        #expect(document.title == "Refunds")
        #expect(document.blocks == [
            TextBlock(.heading(level: 1), "Refunds"),
            TextBlock(.paragraph, "Read carefully: see the policy and `code`."),
            TextBlock(.heading(level: 2), "Timing"),
            TextBlock(.paragraph, "diagram Refunds take 14 days."),
            TextBlock(.code, "```\nkeep **this** as is\n```"),
        ])
    }

    /// Issue 17: what went wrong with real documents (the Redis README's setext headings,
    /// systemd's `$SYSTEMD_SECCOMP=0`, URLs, code blocks) comes out as written.
    @Test func markdownFollowsCommonMarkOnRealDocumentsShapes() async throws {
        let markdown = """
            Building Redis
            --------------

            Set `$SYSTEMD_SECCOMP=0` to turn it off, or `foo_bar_baz` and snake_case_words stay.
            See <https://nodejs.org/en/docs/guides/getting-started-guide/> and [the site](https://redis.io).

            * Run `make test`
            * Then `./runtest --tls`

            1. first
            2. second

            | Variable | Meaning |
            |---|---|
            | `SYSTEMD_LOG_LEVEL` | the log level |

                indented code_block
                second line

            > quoted *text*

            Title &amp; more
            ================
            <div>raw html</div>
            """
        let document = try await extractor.extract(Data(markdown.utf8), format: .markdown)
        #expect(document.blocks == [
            TextBlock(.heading(level: 2), "Building Redis"),
            TextBlock(.paragraph, "Set `$SYSTEMD_SECCOMP=0` to turn it off, or `foo_bar_baz` and snake_case_words stay.\n"
                      + "See https://nodejs.org/en/docs/guides/getting-started-guide/ and the site."),
            TextBlock(.paragraph, "- Run `make test`"),
            TextBlock(.paragraph, "- Then `./runtest --tls`"),
            TextBlock(.paragraph, "1. first"),
            TextBlock(.paragraph, "2. second"),
            TextBlock(.paragraph, "Variable | Meaning\n`SYSTEMD_LOG_LEVEL` | the log level"),
            TextBlock(.code, "```\nindented code_block\nsecond line\n```"),
            TextBlock(.paragraph, "quoted text"),
            TextBlock(.heading(level: 1), "Title & more"),
        ])
        #expect(document.title == "Building Redis")
    }

    @Test func htmlDropsScriptsStylesAndNavigationButKeepsHeadings() async throws {
        let html = """
            <!DOCTYPE html><html><head><title>Help &amp; Support</title><style>p { color: red }</style>
            <script>var secret = "<p>not text</p>";</script></head>
            <body><nav><a href="/">Home</a><nav><a>Nested</a></nav> Menu</nav>
            <h1>Shipping</h1><p>We ship <b>worldwide</b>&nbsp;in 3&ndash;5 days.</p>
            <!-- a comment <p>hidden</p> -->
            <ul><li>Express</li><li>Standard &#38; free</li></ul><footer>© Example</footer></body></html>
            """
        let document = try await extractor.extract(Data(html.utf8), format: .html)
        #expect(document.title == "Help & Support")
        #expect(Self.headings(document) == ["Shipping"])
        #expect(Self.paragraphs(document) == ["We ship worldwide in 3–5 days.", "Express", "Standard & free"])
    }

    /// Front matter (systemd's ENVIRONMENT.md starts with it) is metadata: its title, not a heading.
    @Test func markdownFrontMatterGivesTheTitleAndNoText() async throws {
        let markdown = "---\ntitle: Known Environment Variables\ncategory: Interfaces\n---\n\n# Known Environment Variables\n\nA number of components.\n"
        let document = try await extractor.extract(Data(markdown.utf8), format: .markdown)
        #expect(document.title == "Known Environment Variables")
        #expect(document.blocks == [TextBlock(.heading(level: 1), "Known Environment Variables"), TextBlock(.paragraph, "A number of components.")])
    }

    /// Issue 17: `<pre>` is code as written, `<code>` stays marked, every named entity decodes.
    @Test func htmlKeepsPreformattedCodeAndDecodesEveryNamedEntity() async throws {
        let html = """
            <h2>Install</h2><p>Set <code>SYSTEMD_LOG_LEVEL</code> to <code>debug</code> &rarr; caf&eacute; &hearts; &NotEqualTilde; &frac12;.</p>
            <pre><code><span class="k">if</span> a &lt; b {
                make_install &amp;&amp; echo "done"
            }</code></pre><p>After &unknownentity; the end.</p>
            """
        let document = try await extractor.extract(Data(html.utf8), format: .html)
        #expect(document.blocks == [
            TextBlock(.heading(level: 2), "Install"),
            TextBlock(.paragraph, "Set `SYSTEMD_LOG_LEVEL` to `debug` → café ♥ ≂̸ ½."),
            TextBlock(.code, "```\nif a < b {\n    make_install && echo \"done\"\n}\n```"),
            TextBlock(.paragraph, "After &unknownentity; the end."),
        ])
    }

    @Test func csvRowsBecomeLabelledParagraphs() async throws {
        let csv = "plan,price,notes\r\nStarter,9,\"Up to 3 widgets, \"\"fair\"\" use\"\r\nPro,29,\"Line one\nline two\"\r\n"
        let document = try await extractor.extract(Data(csv.utf8), format: .csv)
        #expect(Self.paragraphs(document) == [
            "plan: Starter; price: 9; notes: Up to 3 widgets, \"fair\" use",
            "plan: Pro; price: 29; notes: Line one\nline two",
        ])
    }

    @Test func pdfTextKeepsItsPageNumbers() async throws {
        let pdf = DocumentFixtures.pdf(pages: [["Refund policy", "Refunds are issued within 14 days."], ["Shipping takes 5 days."]])
        let document = try await extractor.extract(pdf, format: .pdf)
        let text = document.blocks.map { "\($0.page ?? 0): \($0.text)" }.joined(separator: "\n")
        #expect(text.contains("1: Refund policy"), "\(text)")
        #expect(document.blocks.contains { $0.page == 1 && $0.text.contains("within 14 days") }, "\(text)")
        #expect(document.blocks.contains { $0.page == 2 && $0.text.contains("Shipping takes 5 days.") }, "\(text)")
    }

    @Test func aTruncatedPDFFailsWithAReason() async throws {
        let pdf = DocumentFixtures.pdf(pages: [["Some text"]])
        let truncated = pdf.prefix(60)
        let failure = await #expect(throws: ExtractionFailure.self) { try await extractor.extract(truncated, format: .pdf) }
        #expect(failure?.reason.contains("PDF") == true, "\(String(describing: failure))")
        let notPDF = await #expect(throws: ExtractionFailure.self) { try await extractor.extract(Data("hello".utf8), format: .pdf) }
        #expect(notPDF?.reason.contains("not a PDF") == true)
    }

    @Test func docxParagraphsAndHeadingStylesAreRead() async throws {
        let docx = try await DocumentFixtures.docx([
            ("Title", "Employee handbook"), ("Heading2", "Holidays"), (nil, "Everyone gets 25 days & public holidays."),
        ])
        let document = try await extractor.extract(docx, format: .docx)
        #expect(document.blocks == [
            TextBlock(.heading(level: 1), "Employee handbook"), TextBlock(.heading(level: 2), "Holidays"),
            TextBlock(.paragraph, "Everyone gets 25 days & public holidays."),
        ])
    }

    @Test func aZipBombFailsWithAReasonAndQuickly() async throws {
        let bomb = try await DocumentFixtures.zipBomb(megabytes: 64)
        #expect(bomb.count < 1 << 20, "the bomb is small on the wire: \(bomb.count) bytes")
        let failure = await #expect(throws: ExtractionFailure.self) { try await extractor.extract(bomb, format: .docx) }
        #expect(failure?.reason.contains("zip bomb") == true, "\(String(describing: failure))")
        let notZip = await #expect(throws: ExtractionFailure.self) { try await extractor.extract(Data("PK?".utf8), format: .docx) }
        #expect(notZip?.reason.contains("not a DOCX") == true)
    }

    /// The converters' limits are in force (dash once silently dropped two of them), and the
    /// kernel holds a converter to each: memory, output size and time.
    @Test func convertersRunUnderEveryLimit() async throws {
        let sandbox = Sandbox(timeLimit: .seconds(7), memoryLimitBytes: 256 << 20, outputLimitBytes: 1 << 20)
        let limits = try await sandbox.run("/bin/sh", ["-c", "ulimit -t; ulimit -v; ulimit -f"])
        #expect(limits.succeeded)
        #expect(String(decoding: limits.output, as: UTF8.self) == "7\n262144\n2049\n")

        let hog = try await sandbox.run("python3", ["-c", "bytearray(512 << 20)"])
        #expect(!hog.succeeded && !hog.timedOut, "a 512 MiB allocation under a 256 MiB limit must fail")

        let flood = try await sandbox.run("head", ["-c", "4000000", "/dev/zero"])
        #expect(flood.outputTruncated && !flood.succeeded)
        #expect(flood.output.count <= (1 << 20) + 512, "the kernel stopped the writer at the cap: \(flood.output.count) bytes")

        var quick = sandbox
        quick.timeLimit = .seconds(1)
        let sleeper = try await quick.run("sleep", ["30"])
        #expect(sleeper.timedOut && sleeper.signalled && !sleeper.succeeded)
    }

    @Test func binaryOrOversizedTextFailsWithAReason() async throws {
        let binary = await #expect(throws: ExtractionFailure.self) {
            try await extractor.extract(Data([0x41, 0x00, 0x42]), format: .plainText)
        }
        #expect(binary?.reason.contains("binary") == true)
        let invalid = await #expect(throws: ExtractionFailure.self) {
            try await extractor.extract(Data([0xFF, 0xFE, 0x41]), format: .plainText)
        }
        #expect(invalid?.reason.contains("UTF-8") == true)
        let huge = await #expect(throws: ExtractionFailure.self) {
            try await extractor.extract(Data(String(repeating: "x", count: 200_000).utf8), format: .plainText)
        }
        #expect(huge?.reason.contains("at most 100000") == true, "\(String(describing: huge))")
        let empty = await #expect(throws: ExtractionFailure.self) { try await extractor.extract(Data("  \n\n ".utf8), format: .markdown) }
        #expect(empty?.reason.contains("no text") == true)
    }

    @Test func formatsAreRecognisedByContentTypeOrFileName() {
        #expect(DocumentFormat(contentType: "text/markdown; charset=utf-8") == .markdown)
        #expect(DocumentFormat(contentType: "application/vnd.openxmlformats-officedocument.wordprocessingml.document") == .docx)
        #expect(DocumentFormat(contentType: "image/png") == nil)
        #expect(DocumentFormat(filename: "Guide.PDF") == .pdf)
        #expect(DocumentFormat(filename: "notes") == nil)
    }
}
