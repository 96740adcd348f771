@testable import Chat
import Testing

/// Issue 17, the local answerer: what garbled real documents (sentences cut inside URLs and
/// paths, the same passage quoted twice, the fact left out for the passage's first sentences).
@Suite struct AnswerComposerTests {
    @Test func sentencesKnowURLsPathsVersionsAbbreviationsAndCode() {
        let text = """
            Read the guide at https://nodejs.org/en/docs/guides/ before you start. Run `% ./runtest --tls` to test TLS. \
            Version 7.2.4 fixed it, e.g. the crash on ARM. Dr. Smith wrote `a. b. C` once! Is it J. Doe? Yes.
            """
        #expect(AnswerComposer.sentences(text) == [
            "Read the guide at https://nodejs.org/en/docs/guides/ before you start.",
            "Run `% ./runtest --tls` to test TLS.",
            "Version 7.2.4 fixed it, e.g. the crash on ARM.",
            "Dr. Smith wrote `a. b. C` once!",
            "Is it J. Doe?",
            "Yes.",
        ])
    }

    @Test func unitsKeepCodeBlocksListItemsAndTableRowsWhole() {
        let passage = """
            To disable the filter, set:

            ```sh
            SYSTEMD_SECCOMP=0 systemctl start app. Then
            ```
            - Run `make test`
            - Then `make install`

            Variable | Meaning
            """
        #expect(AnswerComposer.units(passage).map(\.kind) == [.prose, .code, .line, .line, .line])
        #expect(AnswerComposer.units(passage)[1].text == "```sh\nSYSTEMD_SECCOMP=0 systemctl start app. Then\n```")
    }

    @Test func theSentenceWithTheFactIsPickedEvenLateInAPassageAndCodeComesWithItsIntroduction() {
        let passages = [
            """
            Redis is an in-memory data store. It is used as a cache, a message broker and a database. \
            Many people use it in production. To build Redis with TLS support, run:

            ```
            make BUILD_TLS=yes
            ```
            """,
            "Redis runs on Linux and macOS. Building Redis needs a C compiler.",
        ]
        let answer = AnswerComposer.compose(question: "how do I build it with TLS?", passages: passages)
        // The opening sentences say nothing about building or TLS; the code block comes with its
        // introduction (and does not count as one of the quotes), the sentence about building follows.
        #expect(answer == "To build Redis with TLS support, run:\n```\nmake BUILD_TLS=yes\n```\n[1]\nBuilding Redis needs a C compiler. [2]")
    }

    @Test func inflectionsAndCompoundsMatchInAnyLanguageAndFunctionWordsDoNot() {
        // `config` begins `configuration`, `Platzhalter` begins `Platzhaltern`: no stemmer needed.
        let english = AnswerComposer.compose(question: "How do I start redis with my own config file?", passages: [
            "Redis starts in the foreground. To use your redis.conf, pass the path of the configuration file:",
        ])
        #expect(answer(english, contains: "redis.conf"))
        let german = AnswerComposer.compose(question: "Wie suche ich mit Platzhaltern?", passages: [
            "Wie gewohnt ist es schnell, und ich sortiere mit Sorgfalt.\n\n-w, --wildcard\nInterpretiert jedes Schlüsselwort als Muster, das Shell-Platzhalter enthält.",
        ])
        #expect(answer(german, contains: "--wildcard"))
        // "wie", "ich" and "mit" are function words: the sentence sharing only those is not quoted.
        #expect(!answer(german, contains: "schnell"))
    }

    private func answer(_ text: String?, contains fact: String) -> Bool { text?.contains(fact) ?? false }

    @Test func overlappingPassagesAreNeverQuotedTwiceAndMarkersFollowTheirSource() {
        let refund = "Refunds are issued within 14 days of a return request."
        let passages = [
            "Returns are free. \(refund)",
            "\(refund) Opened software cannot be refunded.",  // the next chunk repeats the overlap
            "Refunds of gift cards go to the buyer.",
        ]
        let answer = try! #require(AnswerComposer.compose(question: "When are refunds issued, and can opened software be refunded?",
                                                          passages: passages))
        #expect(answer.components(separatedBy: "within 14 days").count == 2, "quoted once: \(answer)")
        #expect(answer.contains("\(refund) [1]") && answer.contains("Opened software cannot be refunded. [2]"), "\(answer)")
    }

    /// A list item that wraps onto more lines is one unit: the answer keeps the variable it names.
    @Test func aWrappedListItemIsQuotedWhole() {
        let passage = """
            * `$SYSTEMD_OFFLINE=[0|1]` — if set to `1`, then `systemctl` will refrain from
              talking to PID 1; this has the same effect as the historical detection of `chroot()`.

            * `$SD_EVENT_PROFILE_DELAYS=1` — if set, the event loop prints latency information.
            """
        let answer = AnswerComposer.compose(question: "How do I stop systemctl from talking to PID 1?", passages: [passage])
        #expect(answer?.hasPrefix("* `$SYSTEMD_OFFLINE=[0|1]` — if set to `1`, then `systemctl` will refrain from talking to PID 1;") == true,
                "\(answer ?? "")")
    }

    @Test func identifiersWithUnderscoresMatchAsOneWord() {
        let answer = AnswerComposer.compose(question: "What does SYSTEMD_SECCOMP do?", passages: [
            "Logging is configured elsewhere. Set `$SYSTEMD_SECCOMP=0` to turn off the seccomp filter.",
        ])
        #expect(answer == "Set `$SYSTEMD_SECCOMP=0` to turn off the seccomp filter. [1]")
    }
}
