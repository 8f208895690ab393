//! Where a value sits in a compose file's text: a small scanner over YAML's
//! block structure (indentation, `key:` lines, `- ` items) and single- or
//! multi-line flow collections, enough to turn a path such as
//! `services.gateway.ports[0]` into a 1-based line and column.
//!
//! Owns the path type ([`Seg`]) and its text form. Does not validate YAML:
//! the text has already parsed. Merge keys (`<<: *role`) and aliases are
//! followed to the anchor's text; anything not found falls back to the
//! nearest enclosing key that is.

mod flow;

use std::collections::BTreeMap;
use std::fmt;

use flow::Flow;

/// One step of a path into the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// A path into the document, shown as `services.api.ports[0]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct YamlPath(pub Vec<Seg>);

impl YamlPath {
    /// This path extended by `seg`.
    pub fn with(&self, seg: Seg) -> Self {
        let mut p = self.clone();
        p.0.push(seg);
        p
    }

    /// This path extended by a key.
    pub fn key(&self, key: &str) -> Self {
        self.with(Seg::Key(key.to_owned()))
    }

    /// This path extended by a list index.
    pub fn index(&self, index: usize) -> Self {
        self.with(Seg::Index(index))
    }
}

impl fmt::Display for YamlPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(top level)");
        }
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => f.write_str(k)?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

/// The position of the value at `path` (its first character), or of the key
/// holding it when it is a block mapping or list; the nearest enclosing key
/// when the path cannot be followed.
pub fn locate(text: &str, path: &YamlPath) -> Pos {
    let mut parser = Parser::new(text);
    let root = parser.document();
    let anchors = parser.anchors;
    let mut node = &root;
    let mut last = root.pos;
    for seg in &path.0 {
        node = resolve(node, &anchors, 0);
        let next = match (seg, &node.kind) {
            (Seg::Key(k), Kind::Map(entries)) => {
                find_entry(entries, k, &anchors, 0).map(|e| (e.key_pos, &e.value))
            }
            (Seg::Index(n), Kind::Seq(items)) => items.get(*n).map(|i| (i.pos, i)),
            _ => None,
        };
        let Some((pos, child)) = next else {
            return last;
        };
        last = pos;
        node = child;
    }
    match &node.kind {
        Kind::Map(_) | Kind::Seq(_) if !node.flow => last,
        Kind::Empty => last,
        _ => node.pos,
    }
}

#[derive(Debug, Clone)]
struct Node {
    pos: Pos,
    flow: bool,
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    Empty,
    Scalar,
    Alias(String),
    Map(Vec<Entry>),
    Seq(Vec<Node>),
}

#[derive(Debug, Clone)]
struct Entry {
    key: String,
    key_pos: Pos,
    value: Node,
}

fn resolve<'n>(node: &'n Node, anchors: &'n BTreeMap<String, Node>, depth: u8) -> &'n Node {
    match &node.kind {
        Kind::Alias(name) if depth < 16 => anchors
            .get(name)
            .map_or(node, |n| resolve(n, anchors, depth + 1)),
        _ => node,
    }
}

/// The entry for `key`, looking through merge keys (`<<`) when absent.
fn find_entry<'n>(
    entries: &'n [Entry],
    key: &str,
    anchors: &'n BTreeMap<String, Node>,
    depth: u8,
) -> Option<&'n Entry> {
    if let Some(e) = entries.iter().find(|e| e.key == key) {
        return Some(e);
    }
    if depth > 8 {
        return None;
    }
    let merge = entries.iter().find(|e| e.key == "<<")?;
    let sources: Vec<&Node> = match &resolve(&merge.value, anchors, 0).kind {
        Kind::Seq(items) => items.iter().collect(),
        _ => vec![&merge.value],
    };
    sources
        .into_iter()
        .find_map(|s| match &resolve(s, anchors, 0).kind {
            Kind::Map(inner) => find_entry(inner, key, anchors, depth + 1),
            _ => None,
        })
}

/// A line of content: comments stripped, indentation counted.
#[derive(Debug, Clone)]
struct Line<'a> {
    no: usize,
    indent: usize,
    text: &'a str,
}

struct Parser<'a> {
    lines: Vec<Line<'a>>,
    i: usize,
    anchors: BTreeMap<String, Node>,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        let mut lines = Vec::new();
        for (n, raw) in text.lines().enumerate() {
            let body = raw.trim_start_matches(' ');
            let indent = raw.len() - body.len();
            let body = strip_comment(body).trim_end();
            if body.is_empty() || body.starts_with('%') || body == "---" {
                continue;
            }
            if body == "..." {
                break;
            }
            let body = body.strip_prefix("--- ").unwrap_or(body);
            lines.push(Line {
                no: n + 1,
                indent: char_count(&raw[..indent]),
                text: body,
            });
        }
        Parser {
            lines,
            i: 0,
            anchors: BTreeMap::new(),
        }
    }

    fn document(&mut self) -> Node {
        if self.lines.is_empty() {
            return empty(Pos { line: 1, column: 1 });
        }
        self.block()
    }

    fn current(&self) -> Option<&Line<'a>> {
        self.lines.get(self.i)
    }

    /// The node starting at the current line.
    fn block(&mut self) -> Node {
        let Some(line) = self.current().cloned() else {
            return empty(Pos { line: 1, column: 1 });
        };
        if is_seq_item(line.text) {
            self.seq(line.indent)
        } else if split_key(line.text).is_some() {
            self.map(line.indent)
        } else {
            self.i += 1;
            let node = self.inline(line.text, pos(&line, line.indent));
            self.skip_deeper(line.indent);
            node
        }
    }

    fn map(&mut self, indent: usize) -> Node {
        let mut entries = Vec::new();
        let start = self
            .current()
            .map_or(Pos { line: 1, column: 1 }, |l| pos(l, indent));
        while let Some(line) = self.current().cloned() {
            if line.indent != indent || is_seq_item(line.text) {
                break;
            }
            let Some((key, rest_offset)) = split_key(line.text) else {
                break;
            };
            self.i += 1;
            let key_pos = pos(&line, indent);
            let rest = &line.text[rest_offset..];
            let column = indent + char_count(&line.text[..rest_offset]);
            let value = self.value(rest, pos(&line, column), indent, key_pos, true);
            entries.push(Entry {
                key,
                key_pos,
                value,
            });
        }
        Node {
            pos: start,
            flow: false,
            kind: Kind::Map(entries),
        }
    }

    fn seq(&mut self, indent: usize) -> Node {
        let mut items = Vec::new();
        let start = self
            .current()
            .map_or(Pos { line: 1, column: 1 }, |l| pos(l, indent));
        while let Some(line) = self.current().cloned() {
            if line.indent != indent || !is_seq_item(line.text) {
                break;
            }
            let after = &line.text[1..];
            let rest = after.trim_start();
            let column = indent + 1 + char_count(&after[..after.len() - rest.len()]);
            let (anchor, rest, column) = strip_properties(rest, column);
            let node = if !rest.is_empty() && (is_seq_item(rest) || split_key(rest).is_some()) {
                // A compact collection: parse the rest as if it were its own line.
                self.lines[self.i] = Line {
                    no: line.no,
                    indent: column,
                    text: rest,
                };
                self.block()
            } else {
                self.i += 1;
                self.value(rest, pos(&line, column), indent, pos(&line, indent), false)
            };
            if let Some(a) = anchor {
                self.anchors.insert(a, node.clone());
            }
            self.skip_deeper(indent);
            items.push(node);
        }
        Node {
            pos: start,
            flow: false,
            kind: Kind::Seq(items),
        }
    }

    /// The value written after `key:` or `- ` (the current line already
    /// consumed): inline text, or a block on the following lines.
    fn value(&mut self, rest: &'a str, at: Pos, indent: usize, holder: Pos, in_map: bool) -> Node {
        let (anchor, rest, column) = strip_properties(rest, at.column - 1);
        let at = Pos {
            line: at.line,
            column: column + 1,
        };
        let node = if rest.is_empty() {
            match self.current() {
                Some(next)
                    if next.indent > indent
                        || (in_map && next.indent == indent && is_seq_item(next.text)) =>
                {
                    self.block()
                }
                _ => empty(holder),
            }
        } else {
            let node = self.inline(rest, at);
            self.skip_deeper(indent);
            node
        };
        if let Some(a) = anchor {
            self.anchors.insert(a, node.clone());
        }
        node
    }

    /// A scalar, alias or flow collection starting at `at`.
    fn inline(&mut self, text: &str, at: Pos) -> Node {
        if let Some(name) = text.strip_prefix('*') {
            return Node {
                pos: at,
                flow: false,
                kind: Kind::Alias(name.trim().to_owned()),
            };
        }
        if text.starts_with('[') || text.starts_with('{') {
            let chars = self.flow_chars(text, at);
            if let Some(node) = Flow::new(chars).node() {
                return node;
            }
        }
        Node {
            pos: at,
            flow: false,
            kind: Kind::Scalar,
        }
    }

    /// The characters of a flow collection with their positions, taking
    /// further lines while brackets stay open.
    fn flow_chars(&mut self, first: &str, at: Pos) -> Vec<(char, Pos)> {
        let mut chars: Vec<(char, Pos)> = first
            .chars()
            .enumerate()
            .map(|(k, c)| {
                (
                    c,
                    Pos {
                        line: at.line,
                        column: at.column + k,
                    },
                )
            })
            .collect();
        while !balanced(&chars) {
            let Some(line) = self.current().cloned() else {
                break;
            };
            self.i += 1;
            chars.push((' ', pos(&line, line.indent)));
            chars.extend(
                line.text
                    .chars()
                    .enumerate()
                    .map(|(k, c)| (c, pos(&line, line.indent + k))),
            );
        }
        chars
    }

    fn skip_deeper(&mut self, indent: usize) {
        while self.current().is_some_and(|l| l.indent > indent) {
            self.i += 1;
        }
    }
}

fn empty(at: Pos) -> Node {
    Node {
        pos: at,
        flow: false,
        kind: Kind::Empty,
    }
}

fn pos(line: &Line<'_>, column0: usize) -> Pos {
    Pos {
        line: line.no,
        column: column0 + 1,
    }
}

fn char_count(s: &str) -> usize {
    s.chars().count()
}

fn is_seq_item(text: &str) -> bool {
    text == "-" || text.starts_with("- ") || text.starts_with("-\t")
}

/// Strips a trailing comment (`#` at the start or after whitespace, outside quotes).
fn strip_comment(text: &str) -> &str {
    let mut quote: Option<char> = None;
    let mut prev_space = true;
    let mut escaped = false;
    for (k, c) in text.char_indices() {
        match quote {
            Some('"') if escaped => escaped = false,
            Some('"') if c == '\\' => escaped = true,
            Some(q) if c == q => quote = None,
            None if c == '#' && prev_space => return &text[..k],
            None if (c == '"' || c == '\'') && prev_space => quote = Some(c),
            _ => {}
        }
        prev_space = c == ' ' || c == '\t' || (quote.is_none() && matches!(c, '[' | '{' | ','));
    }
    text
}

/// Leading `&anchor` and `!tag` properties: the anchor's name, the rest and
/// the rest's 0-based column.
fn strip_properties(text: &str, column: usize) -> (Option<String>, &str, usize) {
    let mut anchor = None;
    let mut rest = text;
    let mut column = column;
    while rest.starts_with('&') || rest.starts_with('!') {
        let end = rest.find([' ', '\t']).unwrap_or(rest.len());
        if let Some(name) = rest[..end].strip_prefix('&') {
            anchor = Some(name.to_owned());
        }
        let after = &rest[end..];
        let trimmed = after.trim_start();
        column += char_count(&rest[..end]) + char_count(&after[..after.len() - trimmed.len()]);
        rest = trimmed;
    }
    (anchor, rest, column)
}

/// A `key:` line: the key (unquoted) and the byte offset of what follows
/// the colon and its spaces.
fn split_key(text: &str) -> Option<(String, usize)> {
    let (key, after_key) =
        if let Some(quote) = text.chars().next().filter(|c| *c == '"' || *c == '\'') {
            let (key, len) = quoted(text, quote)?;
            (key, len)
        } else {
            if text.starts_with(['[', '{', '*', '&', '!', '|', '>', '%', '@', '`', '#', '?']) {
                return None;
            }
            let bytes = text.as_bytes();
            let colon = (0..bytes.len()).find(|&k| {
                bytes[k] == b':'
                    && (k + 1 == bytes.len() || bytes[k + 1] == b' ' || bytes[k + 1] == b'\t')
            })?;
            (text[..colon].trim_end().to_owned(), colon)
        };
    let after = text[after_key..].trim_start_matches([' ', '\t']);
    let after = after.strip_prefix(':')?;
    if !(after.is_empty() || after.starts_with([' ', '\t'])) {
        return None;
    }
    let rest = after.trim_start_matches([' ', '\t']);
    Some((key, text.len() - rest.len()))
}

/// A quoted string at the start of `text`: its value and byte length.
fn quoted(text: &str, quote: char) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut chars = text.char_indices().skip(1).peekable();
    while let Some((k, c)) = chars.next() {
        if c == quote {
            if quote == '\'' && chars.peek().is_some_and(|(_, n)| *n == '\'') {
                chars.next();
                out.push('\'');
                continue;
            }
            return Some((out, k + c.len_utf8()));
        }
        if quote == '"' && c == '\\' {
            if let Some((_, n)) = chars.next() {
                out.push(n);
            }
            continue;
        }
        out.push(c);
    }
    None
}

fn balanced(chars: &[(char, Pos)]) -> bool {
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (c, _) in chars {
        match quote {
            Some('"') if escaped => escaped = false,
            Some('"') if *c == '\\' => escaped = true,
            Some(q) if *c == q => quote = None,
            Some(_) => {}
            None => match c {
                '"' | '\'' => quote = Some(*c),
                '[' | '{' => depth += 1,
                ']' | '}' => depth -= 1,
                _ => {}
            },
        }
    }
    depth <= 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn path(text: &str) -> YamlPath {
        let mut segs = Vec::new();
        for part in text.split('.') {
            let (key, indices) = part.split_once('[').map_or((part, ""), |(k, i)| (k, i));
            if !key.is_empty() {
                segs.push(Seg::Key(key.to_owned()));
            }
            for i in indices.split('[') {
                if let Ok(n) = i.trim_end_matches(']').parse() {
                    segs.push(Seg::Index(n));
                }
            }
        }
        YamlPath(segs)
    }

    fn at(text: &str, p: &str) -> (usize, usize) {
        let pos = locate(text, &path(p));
        (pos.line, pos.column)
    }

    const DOC: &str = "\
# a comment
version: \"2.4\"
x-role: &role
  image: understudy:latest   # trailing comment
  mem_limit: 256m
  healthcheck:
    test: [\"CMD\", \"/probe\",
           \"http://x\"]
services:
  api:
    <<: *role
    cpus: lots
    ports:
      - \"8080:80\"
      - target: 81
        published: \"x\"
    command: [\"a\", 'b c', d]
    environment: {A: 1, \"B\": two}
    labels:
    - one=1
    - two=2
    description: |
      free: text
      - not an item
    tail: end
";

    #[test]
    fn finds_nested_keys_and_values() {
        assert_eq!(at(DOC, "services.api.cpus"), (12, 11));
        assert_eq!(
            at(DOC, "services.api"),
            (10, 3),
            "a block mapping points at its key"
        );
        assert_eq!(at(DOC, "services"), (9, 1));
        assert_eq!(at(DOC, "version"), (2, 10));
        assert_eq!(
            at(DOC, "services.api.tail"),
            (25, 11),
            "block scalars are skipped"
        );
    }

    #[test]
    fn finds_list_items_block_compact_and_flow() {
        assert_eq!(at(DOC, "services.api.ports[0]"), (14, 9));
        assert_eq!(at(DOC, "services.api.ports[1]"), (15, 9));
        assert_eq!(at(DOC, "services.api.ports[1].published"), (16, 20));
        assert_eq!(at(DOC, "services.api.command[1]"), (17, 20));
        assert_eq!(at(DOC, "services.api.command[2]"), (17, 27));
        assert_eq!(at(DOC, "services.api.environment.B"), (18, 30));
        assert_eq!(
            at(DOC, "services.api.labels[1]"),
            (21, 7),
            "a list at its key's indentation"
        );
    }

    #[test]
    fn follows_merge_keys_and_multi_line_flow() {
        assert_eq!(at(DOC, "services.api.mem_limit"), (5, 14));
        assert_eq!(at(DOC, "services.api.healthcheck.test[2]"), (8, 12));
    }

    #[test]
    fn falls_back_to_the_nearest_key() {
        assert_eq!(at(DOC, "services.api.nothing.deeper"), (10, 3));
        assert_eq!(at(DOC, "services.api.ports[7]"), (13, 5));
        assert_eq!(
            at(DOC, "services.api.cpus[0]"),
            (12, 5),
            "a scalar has no items"
        );
        assert_eq!(at("", "services"), (1, 1));
    }

    #[test]
    fn anchored_sequences_and_merge_lists() {
        let text = "\
base: &base
  a: 1
more: &more {b: 2}
list: &l
  - x
svc:
  <<: [*base, *more]
  use: *l
";
        assert_eq!(at(text, "svc.a"), (2, 6));
        assert_eq!(at(text, "svc.b"), (3, 17));
        assert_eq!(at(text, "svc.use[0]"), (5, 5));
    }

    #[test]
    fn paths_display_with_dots_and_brackets() {
        assert_eq!(
            path("services.api.ports[0]").to_string(),
            "services.api.ports[0]"
        );
        assert_eq!(YamlPath::default().to_string(), "(top level)");
        assert_eq!(
            YamlPath::default().key("a").index(2).key("b").to_string(),
            "a[2].b"
        );
    }

    #[test]
    fn comments_and_quotes() {
        assert_eq!(strip_comment("a: \"x # y\" # z"), "a: \"x # y\" ");
        assert_eq!(strip_comment("a: b#c"), "a: b#c");
        assert_eq!(split_key("\"a b\": 1"), Some(("a b".to_owned(), 7)));
        assert_eq!(split_key("store-data:/data"), None);
        assert_eq!(
            split_key("http://x: y").map(|k| k.0),
            Some("http://x".to_owned())
        );
    }

    /// A generated document: nested mappings and lists of plain scalars.
    #[derive(Debug, Clone)]
    enum Tree {
        Leaf(String),
        Map(Vec<(String, Tree)>),
        List(Vec<String>, bool),
    }

    fn tree() -> impl Strategy<Value = Tree> {
        let leaf = "[a-z0-9][a-z0-9./-]{0,6}".prop_map(Tree::Leaf);
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(("[a-z][a-z_]{0,5}", inner), 1..4).prop_map(|entries| {
                    let mut seen = std::collections::BTreeSet::new();
                    Tree::Map(
                        entries
                            .into_iter()
                            .filter(|(k, _)| seen.insert(k.clone()))
                            .collect(),
                    )
                }),
                (
                    prop::collection::vec("[a-z0-9][a-z0-9.]{0,4}", 1..4),
                    any::<bool>()
                )
                    .prop_map(|(items, flow)| Tree::List(items, flow)),
            ]
        })
    }

    /// Writes `entries` at `indent`, noting where each leaf's value starts.
    fn render(
        entries: &[(String, Tree)],
        indent: usize,
        path: &YamlPath,
        out: &mut Vec<String>,
        want: &mut Vec<(YamlPath, (usize, usize))>,
    ) {
        let pad = " ".repeat(indent);
        for (key, value) in entries {
            let here = path.key(key);
            match value {
                Tree::Leaf(v) => {
                    out.push(format!("{pad}{key}: {v}"));
                    want.push((here, (out.len(), indent + key.len() + 3)));
                }
                Tree::Map(inner) => {
                    out.push(format!("{pad}{key}:"));
                    render(inner, indent + 2, &here, out, want);
                }
                Tree::List(items, true) => {
                    let mut line = format!("{pad}{key}: [");
                    for (i, item) in items.iter().enumerate() {
                        if i > 0 {
                            line.push_str(", ");
                        }
                        want.push((here.index(i), (out.len() + 1, line.chars().count() + 1)));
                        line.push_str(item);
                    }
                    line.push(']');
                    out.push(line);
                }
                Tree::List(items, false) => {
                    out.push(format!("{pad}{key}:"));
                    for (i, item) in items.iter().enumerate() {
                        out.push(format!("{pad}  - {item}"));
                        want.push((here.index(i), (out.len(), indent + 5)));
                    }
                }
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn every_generated_leaf_is_found(root in prop::collection::vec(("[a-z][a-z_]{0,5}", tree()), 1..4)) {
            let mut seen = std::collections::BTreeSet::new();
            let root: Vec<(String, Tree)> = root.into_iter().filter(|(k, _)| seen.insert(k.clone())).collect();
            let mut lines = Vec::new();
            let mut want = Vec::new();
            render(&root, 0, &YamlPath::default(), &mut lines, &mut want);
            let text = lines.join("\n");
            for (path, (line, column)) in want {
                let pos = locate(&text, &path);
                proptest::prop_assert_eq!((pos.line, pos.column), (line, column), "{} in\n{}", path, text);
            }
        }
    }
}
