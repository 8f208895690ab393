//! Errors of reading a compose file, each naming the file, line and column
//! and the offending value in quotes, and the small tools that build them:
//! positions from paths (through `locate`), YAML parser messages, serde's
//! type errors restated with the value found.

use std::fmt;

use serde_norway::Value;

use super::locate::{self, Seg, YamlPath};

/// `FILE:LINE:COLUMN`, 1-based.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct At {
    pub file: String,
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// Why a compose file did not become a Spec.
#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    /// Not YAML.
    #[error("{at}: {message}")]
    Yaml { at: At, message: String },
    /// A value of the wrong type or out of range.
    #[error("{at}: {path}: {message}")]
    Invalid {
        at: At,
        path: String,
        message: String,
    },
    #[error("{at}: no `services:` mapping with at least one service")]
    NoServices { at: At },
    #[error(
        "{at}: services.{service}: neither `image:` nor `build:` in \"{service}\"; understudy runs images already on the engine: name one with `image:`"
    )]
    NoImage { at: At, service: String },
    #[error(
        "{at}: services.{service}.build: understudy never builds images, and \"{service}\" has no `image:`; build it first (docker compose build {service}) and name the result with `image:`"
    )]
    BuildOnly { at: At, service: String },
    #[error(
        "{at}: services.{service}.image: not on the engine \"{image}\"; understudy never pulls or builds images: pull or build it first (docker pull {image}, or docker compose build {service})"
    )]
    ImageNotOnEngine {
        at: At,
        service: String,
        image: String,
    },
    #[error("{at}: services.{service}.env_file: cannot read \"{path}\": {source}")]
    EnvFile {
        at: At,
        service: String,
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A line of an env file (`at` is in that file).
    #[error("{at}: {message}")]
    EnvFileSyntax { at: At, message: String },
    /// The project name given by the caller.
    #[error(
        "invalid project name \"{name}\": use lowercase letters, digits, '-' and '_', starting with a letter or digit"
    )]
    Project { name: String },
}

/// The file being read: its name for messages, its text for positions and
/// its merged value for quoting what was found.
pub struct Source<'a> {
    pub file: String,
    pub text: &'a str,
    pub value: &'a Value,
}

impl Source<'_> {
    /// The position of `path` in the text.
    pub fn at(&self, path: &YamlPath) -> At {
        let pos = locate::locate(self.text, path);
        At {
            file: self.file.clone(),
            line: pos.line,
            column: pos.column,
        }
    }

    /// An [`ComposeError::Invalid`] at `path`.
    pub fn invalid(&self, path: &YamlPath, message: String) -> ComposeError {
        ComposeError::Invalid {
            at: self.at(path),
            path: path.to_string(),
            message,
        }
    }

    /// The path of entry `name` of the list or mapping at `path`
    /// (`depends_on[1]` or `depends_on.store`).
    pub fn item_path(&self, path: &YamlPath, name: &str) -> YamlPath {
        match lookup(self.value, path) {
            Some(Value::Sequence(items)) => {
                let found = items.iter().position(|v| v.as_str() == Some(name));
                found.map_or_else(|| path.clone(), |i| path.index(i))
            }
            Some(Value::Mapping(_)) => path.key(name),
            _ => path.clone(),
        }
    }

    /// A serde error from reading the model, restated with its position and
    /// the value found there.
    pub fn serde_error(
        &self,
        err: &serde_path_to_error::Error<serde_norway::Error>,
    ) -> ComposeError {
        let mut segs = Vec::new();
        for seg in err.path() {
            match seg {
                serde_path_to_error::Segment::Seq { index } => segs.push(Seg::Index(*index)),
                serde_path_to_error::Segment::Map { key }
                | serde_path_to_error::Segment::Enum { variant: key } => {
                    segs.push(Seg::Key(key.clone()));
                }
                serde_path_to_error::Segment::Unknown => break,
            }
        }
        let path = YamlPath(segs);
        let found = lookup(self.value, &path);
        self.invalid(&path, explain(&err.inner().to_string(), found))
    }
}

/// The value at `path`, if the path leads anywhere.
pub fn lookup<'v>(value: &'v Value, path: &YamlPath) -> Option<&'v Value> {
    let mut v = value;
    for seg in &path.0 {
        v = match (seg, v) {
            (Seg::Key(k), Value::Mapping(m)) => m.get(k.as_str())?,
            (Seg::Index(i), Value::Sequence(s)) => s.get(*i)?,
            _ => return None,
        };
    }
    Some(v)
}

/// serde's message made to end with the value found, in quotes:
/// `invalid type: string "x", expected a boolean` becomes
/// `expected a boolean, found "x"`.
pub fn explain(message: &str, found: Option<&Value>) -> String {
    let rest = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "));
    if let Some((_, expected)) = rest.and_then(|r| r.split_once(", expected ")) {
        return match found {
            Some(v) => format!("expected {expected}, found {}", describe(v)),
            None => format!("expected {expected}"),
        };
    }
    match found {
        Some(v) if !message.ends_with('"') => format!("{message} in {:?}", render(v)),
        _ => message.to_owned(),
    }
}

fn describe(value: &Value) -> String {
    let kind = match value {
        Value::Null => "nothing",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        _ => "",
    };
    if kind.is_empty() {
        format!("{:?}", render(value))
    } else {
        format!("{kind} {:?}", render(value))
    }
}

/// A value on one line, as YAML's flow style writes it; long values cut.
pub fn render(value: &Value) -> String {
    let mut out = String::new();
    write_flow(value, &mut out);
    if out.chars().count() > 60 {
        out = out.chars().take(57).collect::<String>() + "...";
    }
    out
}

fn write_flow(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(&b.to_string()),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => out.push_str(s),
        Value::Sequence(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_flow(item, out);
            }
            out.push(']');
        }
        Value::Mapping(m) => {
            out.push('{');
            for (i, (k, v)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_flow(k, out);
                out.push_str(": ");
                write_flow(v, out);
            }
            out.push('}');
        }
        Value::Tagged(t) => write_flow(&t.value, out),
    }
}

/// A YAML parser error as `FILE:LINE:COLUMN: message`, the position taken
/// out of the message (further positions kept as `LINE:COLUMN`).
pub fn yaml_error(file: &str, err: &serde_norway::Error) -> ComposeError {
    let (line, column) = err.location().map_or((1, 1), |l| (l.line(), l.column()));
    let mut message = err.to_string();
    let first = format!(" at line {line} column {column}");
    if let Some(k) = message.find(&first) {
        message.replace_range(k..k + first.len(), "");
    }
    while let Some(k) = message.find(" at line ") {
        let tail = &message[k + " at line ".len()..];
        let Some((l, rest)) = tail.split_once(" column ") else {
            break;
        };
        let c: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let end = k + " at line ".len() + l.len() + " column ".len() + c.len();
        message.replace_range(k..end, &format!(" at {l}:{c}"));
    }
    ComposeError::Yaml {
        at: At {
            file: file.to_owned(),
            line,
            column,
        },
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_type_errors_end_with_the_value() {
        let v = Value::String("maybe".into());
        assert_eq!(
            explain(
                "invalid type: string \"maybe\", expected a boolean",
                Some(&v)
            ),
            "expected a boolean, found \"maybe\""
        );
        let m: Value = serde_norway::from_str("{a: 1, b: [x, y]}").unwrap();
        assert_eq!(
            explain("invalid type: map, expected a string", Some(&m)),
            "expected a string, found a mapping \"{a: 1, b: [x, y]}\""
        );
        assert_eq!(
            explain("missing field `target`", Some(&m)),
            "missing field `target` in \"{a: 1, b: [x, y]}\""
        );
        assert_eq!(explain("bad \"x\"", Some(&m)), "bad \"x\"");
    }

    #[test]
    fn yaml_errors_carry_their_position_once() {
        let err = serde_norway::from_str::<Value>("a:\n  b: 1\n c: 2\n").unwrap_err();
        let e = yaml_error("f.yaml", &err).to_string();
        assert!(e.starts_with("f.yaml:3:2: "), "{e}");
        assert!(!e.contains("at line"), "{e}");
    }

    #[test]
    fn lookup_follows_keys_and_indices() {
        let v: Value = serde_norway::from_str("a: {b: [1, {c: two}]}").unwrap();
        let p = YamlPath::default().key("a").key("b").index(1).key("c");
        assert_eq!(lookup(&v, &p), Some(&Value::String("two".into())));
        assert_eq!(lookup(&v, &YamlPath::default().key("z")), None);
    }
}
