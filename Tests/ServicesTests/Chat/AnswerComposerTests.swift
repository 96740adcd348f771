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
        #expect(answer == "To build Redis with TLS support, run:\n```\nmake BUILD_TLS=yes\n```\n[1]")
    }

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
