@testable import EtcdProto
import Testing

@Suite("A stream of JSON values cut as its bytes arrive")
struct JSONDocumentSplitterTests {
    private func text(_ documents: [[UInt8]]) -> [String] {
        documents.map { String(decoding: $0, as: UTF8.self) }
    }

    @Test("values back to back or one per line, each returned once complete")
    func values() {
        var splitter = JSONDocumentSplitter()
        #expect(text(splitter.append(Array(#"{"a":1}{"b":[1,{"c":2}]}"#.utf8) + [0x0A])) == [#"{"a":1}"#, #"{"b":[1,{"c":2}]}"#])
        #expect(splitter.failure == nil && splitter.failureAtEnd == nil)
    }

    @Test("a value cut anywhere, inside strings and escapes too, is returned when its last byte arrives")
    func piecewise() {
        let stream = #" {"k":"a}\"{b"} [1] "#
        for cut in 0...stream.utf8.count {
            var splitter = JSONDocumentSplitter()
            let bytes = Array(stream.utf8)
            let found = text(splitter.append(bytes[..<cut])) + text(splitter.append(bytes[cut...]))
            #expect(found == [#"{"k":"a}\"{b"}"#, "[1]"], "cut at \(cut)")
        }
    }

    @Test("what is no object keeps the values before it and stops the stream")
    func failure() {
        var splitter = JSONDocumentSplitter()
        #expect(text(splitter.append(Array(#"{"a":1} xx {"b":2}"#.utf8))) == [#"{"a":1}"#])
        #expect(splitter.failure?.message == "invalid character 'x' looking for beginning of value")
        #expect(splitter.append(Array("{}".utf8)).isEmpty)
        var unbalanced = JSONDocumentSplitter()
        #expect(unbalanced.append(Array("}".utf8)).isEmpty && unbalanced.failure != nil)
        var top = JSONDocumentSplitter()
        #expect(top.append(Array(#""text""#.utf8)).isEmpty && top.failure != nil)
        var control = JSONDocumentSplitter()
        #expect(control.append([0x01]).isEmpty)
        #expect(control.failure?.message == #"invalid character '\x01' looking for beginning of value"#)
        var quote = JSONDocumentSplitter()
        #expect(quote.append(Array("'".utf8)).isEmpty)
        #expect(quote.failure?.message == #"invalid character '\'' looking for beginning of value"#)
    }

    @Test("a stream ending inside a value fails with Go's unexpected EOF; a value too large fails")
    func endAndSize() {
        var splitter = JSONDocumentSplitter()
        #expect(splitter.append(Array(#"{"a":"#.utf8)).isEmpty && splitter.failure == nil)
        #expect(splitter.failureAtEnd?.message == "unexpected EOF")
        var small = JSONDocumentSplitter(maxDocumentBytes: 8)
        #expect(text(small.append(Array(#"{"a":1}"#.utf8))) == [#"{"a":1}"#])
        #expect(small.append(Array(#"{"a":"123456"}"#.utf8)).isEmpty && small.failure != nil)
    }
}
