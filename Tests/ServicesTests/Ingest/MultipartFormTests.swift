import Foundation
@testable import Ingest
import Testing

/// The multipart reader's header parameters: quoted values keep their `;` and escaped quotes.
@Suite(.timeLimit(.minutes(5))) struct MultipartFormTests {
    @Test func quotedFileNamesKeepSemicolonsAndEscapedQuotes() throws {
        let boundary = "b0undary"
        let body = Data("""
            --b0undary\r
            Content-Disposition: form-data; name="file"; filename="Q3; final \\"v2\\".md"\r
            Content-Type: text/markdown\r
            \r
            # Hello\r
            --b0undary\r
            Content-Disposition: form-data; name=widget_id\r
            \r
            42\r
            --b0undary--\r

            """.utf8)
        let form = try #require(MultipartForm(body, boundary: boundary))
        #expect(form["file"]?.filename == #"Q3; final "v2".md"#)
        #expect(form["file"]?.contentType == "text/markdown")
        #expect(form["file"].map { String(decoding: $0.data, as: UTF8.self) } == "# Hello")
        #expect(form["widget_id"].map { String(decoding: $0.data, as: UTF8.self) } == "42", "an unquoted value")
        #expect(MultipartForm.parameter("filename", in: #"form-data; name="a"; filename="x.pdf""#) == "x.pdf")
        #expect(MultipartForm.parameter("name", in: #"form-data; filename="name=evil"; name="real""#) == "real")
    }
}
