//! Flow collections (`[a, "b"]`, `{k: v}`), possibly over several lines:
//! the positioned characters of one collection become a [`Node`] tree.

use super::{Entry, Kind, Node, Pos, empty, quoted};

/// A flow collection (`[a, b]`, `{k: v}`) over positioned characters.
pub(super) struct Flow {
    chars: Vec<(char, Pos)>,
    at: usize,
}

impl Flow {
    pub(super) fn new(chars: Vec<(char, Pos)>) -> Self {
        Self { chars, at: 0 }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).map(|(c, _)| *c)
    }

    fn pos(&self) -> Option<Pos> {
        self.chars.get(self.at).map(|(_, p)| *p)
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.at += 1;
        }
    }

    pub(super) fn node(&mut self) -> Option<Node> {
        self.skip_space();
        let start = self.pos()?;
        match self.peek()? {
            '[' => self.seq(start),
            '{' => self.map(start),
            '*' => {
                self.at += 1;
                let name = self.plain(false);
                Some(Node {
                    pos: start,
                    flow: true,
                    kind: Kind::Alias(name),
                })
            }
            _ => {
                self.scalar(false);
                Some(Node {
                    pos: start,
                    flow: true,
                    kind: Kind::Scalar,
                })
            }
        }
    }

    fn seq(&mut self, start: Pos) -> Option<Node> {
        self.at += 1;
        let mut items = Vec::new();
        loop {
            self.skip_space();
            match self.peek()? {
                ']' => {
                    self.at += 1;
                    return Some(Node {
                        pos: start,
                        flow: true,
                        kind: Kind::Seq(items),
                    });
                }
                ',' => self.at += 1,
                _ => {
                    let before = self.at;
                    items.push(self.node()?);
                    if self.at == before {
                        return None;
                    }
                }
            }
        }
    }

    fn map(&mut self, start: Pos) -> Option<Node> {
        self.at += 1;
        let mut entries = Vec::new();
        loop {
            self.skip_space();
            match self.peek()? {
                '}' => {
                    self.at += 1;
                    return Some(Node {
                        pos: start,
                        flow: true,
                        kind: Kind::Map(entries),
                    });
                }
                ',' => self.at += 1,
                _ => {
                    let key_pos = self.pos()?;
                    let before = self.at;
                    let key = self.scalar(true);
                    if self.at == before && self.peek() != Some(':') {
                        return None;
                    }
                    self.skip_space();
                    let value = if self.peek() == Some(':') {
                        self.at += 1;
                        self.skip_space();
                        match self.peek()? {
                            ',' | '}' => empty(key_pos),
                            _ => self.node()?,
                        }
                    } else {
                        empty(key_pos)
                    };
                    entries.push(Entry {
                        key,
                        key_pos,
                        value,
                    });
                }
            }
        }
    }

    /// A quoted or plain scalar; returns its text.
    fn scalar(&mut self, is_key: bool) -> String {
        match self.peek() {
            Some(q @ ('"' | '\'')) => {
                let rest: String = self.chars[self.at..].iter().map(|(c, _)| *c).collect();
                if let Some((text, len)) = quoted(&rest, q) {
                    self.at += rest[..len].chars().count();
                    return text;
                }
                self.at = self.chars.len();
                rest
            }
            _ => self.plain(is_key),
        }
    }

    fn plain(&mut self, is_key: bool) -> String {
        let mut out = String::new();
        while let Some(c) = self.peek() {
            let next = self.chars.get(self.at + 1).map(|(c, _)| *c);
            let ends_key =
                c == ':' && (next.is_none_or(|n| n.is_whitespace() || n == ',' || n == '}'));
            if matches!(c, ',' | ']' | '}') || (is_key && ends_key) {
                break;
            }
            out.push(c);
            self.at += 1;
        }
        out.trim_end().to_owned()
    }
}
