import CCmarkGFM
import Foundation

/// Markdown as CommonMark and GitHub read it, parsed by cmark-gfm rather than by hand: ATX and
/// setext headings; code spans kept verbatim between backticks (`$SYSTEMD_SECCOMP=0` keeps its
/// underscores); fenced and indented code blocks kept verbatim as code blocks the chunker never
/// splits; tables row by row; list items with their markers; links and images by their text
/// (an autolink's text is its URL, whole); raw HTML left out.
enum MarkdownReader {
    /// cmark-gfm's extension registry is global: filled once, before the first parse.
    private static let registered: Bool = {
        cmark_gfm_core_extensions_ensure_registered()
        return true
    }()

    static func read(_ text: String) -> ExtractedDocument {
        precondition(registered)
        let (frontTitle, text) = frontMatter(text)
        let parser = cmark_parser_new(CMARK_OPT_DEFAULT)!
        defer { cmark_parser_free(parser) }
        for name in ["table", "strikethrough", "autolink", "tasklist"] {
            if let syntax = cmark_find_syntax_extension(name) { cmark_parser_attach_syntax_extension(parser, syntax) }
        }
        var bytes = Array(text.utf8)
        if bytes.isEmpty { bytes = [0x0A] }
        bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { cmark_parser_feed(parser, $0.baseAddress, $0.count) }
        }
        let root = cmark_parser_finish(parser)!
        defer { cmark_node_free(root) }
        var blocks: [TextBlock] = []
        walk(root, into: &blocks, marker: nil)
        let title = frontTitle ?? blocks.first { if case .heading = $0.kind { true } else { false } }?.text
        return ExtractedDocument(title: title, blocks: blocks)
    }

    /// YAML front matter (`---` … `---` at the very start, as Jekyll and Hugo sites write it) is
    /// metadata, not text: CommonMark would read it as a rule and a heading. Its `title:` is the
    /// document's title.
    static func frontMatter(_ text: String) -> (title: String?, body: String) {
        guard text.hasPrefix("---\n") || text.hasPrefix("---\r\n") else { return (nil, text) }
        let lines = text.split(separator: "\n", maxSplits: 60, omittingEmptySubsequences: false)
        guard let close = lines.dropFirst().prefix(50).firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "---" })
        else { return (nil, text) }
        let title = lines[1..<close].first { $0.hasPrefix("title:") }
            .map { $0.dropFirst(6).trimmingCharacters(in: CharacterSet(charactersIn: " \"'\r")) }
        return (title.flatMap { $0.isEmpty ? nil : $0 }, lines[(close + 1)...].joined(separator: "\n"))
    }

    /// The block-level children of `node`, in order; `marker` prefixes the first paragraph of a list item.
    private static func walk(_ node: OpaquePointer, into blocks: inout [TextBlock], marker: String?) {
        var marker = marker
        var child = cmark_node_first_child(node)
        while let current = child {
            defer { child = cmark_node_next(current) }
            let kind = String(cString: cmark_node_get_type_string(current))
            switch kind {
            case "heading":
                let text = inline(current).trimmingCharacters(in: .whitespacesAndNewlines)
                if !text.isEmpty { blocks.append(TextBlock(.heading(level: Int(cmark_node_get_heading_level(current))), text)) }
            case "paragraph":
                var text = inline(current).trimmingCharacters(in: .whitespacesAndNewlines)
                if let prefix = marker {
                    text = prefix + text
                    marker = nil
                }
                if !text.isEmpty { blocks.append(TextBlock(.paragraph, text)) }
            case "code_block":
                let code = literal(current)
                guard !code.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { continue }
                let info = cmark_node_get_fence_info(current).map { String(cString: $0) }?
                    .split(separator: " ").first.map(String.init) ?? ""
                let body = code.hasSuffix("\n") ? code : code + "\n"
                blocks.append(TextBlock(.code, "```\(info)\n\(body)```"))
            case "list":
                let ordered = cmark_node_get_list_type(current) == CMARK_ORDERED_LIST
                var number = Int(cmark_node_get_list_start(current))
                var item = cmark_node_first_child(current)
                while let entry = item {
                    let checkbox = String(cString: cmark_node_get_type_string(entry)) == "tasklist"
                        ? (cmark_gfm_extensions_get_tasklist_item_checked(entry) ? "[x] " : "[ ] ") : ""
                    walk(entry, into: &blocks, marker: (ordered ? "\(number). " : "- ") + checkbox)
                    number += 1
                    item = cmark_node_next(entry)
                }
            case "table":
                var rows: [String] = []
                var row = cmark_node_first_child(current)
                while let line = row {
                    var cells: [String] = []
                    var cell = cmark_node_first_child(line)
                    while let entry = cell {
                        cells.append(inline(entry).trimmingCharacters(in: .whitespaces))
                        cell = cmark_node_next(entry)
                    }
                    rows.append(cells.joined(separator: " | "))
                    row = cmark_node_next(line)
                }
                if !rows.isEmpty { blocks.append(TextBlock(.paragraph, rows.joined(separator: "\n"))) }
            case "html_block", "thematic_break":
                continue
            default:
                // Block quotes, list items, footnote definitions and anything newer: their blocks.
                walk(current, into: &blocks, marker: marker)
                marker = nil
            }
        }
    }

    /// The text a reader sees in an inline container; code spans keep their backticks and bytes.
    private static func inline(_ node: OpaquePointer) -> String {
        var text = ""
        var child = cmark_node_first_child(node)
        while let current = child {
            switch String(cString: cmark_node_get_type_string(current)) {
            case "text": text += literal(current)
            case "code":
                let code = literal(current)
                let fence = code.contains("`") ? "``" : "`"
                text += fence + code + fence
            case "softbreak", "linebreak": text += "\n"
            case "html_inline", "footnote_reference": break
            default: text += inline(current)  // emphasis, strong, strikethrough, links, images (alt text)
            }
            child = cmark_node_next(current)
        }
        return text
    }

    private static func literal(_ node: OpaquePointer) -> String {
        cmark_node_get_literal(node).map { String(cString: $0) } ?? ""
    }
}
