//! `env_file` contents: `K=V` lines, `#` comments, an optional `export `,
//! values unquoted (`"..."` or `'...'`), `K` alone for an empty value.
//! Reading the file is the caller's (injected); this only parses text.

/// Parses an env file; a line without a name (`=x`) is an error naming the
/// 1-based line and the line's text in quotes.
pub fn parse_env_file(text: &str) -> Result<Vec<(String, String)>, (usize, String)> {
    let mut out = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").map_or(line, str::trim_start);
        let (key, value) = line.split_once('=').unwrap_or((line, ""));
        let key = key.trim();
        if key.is_empty() || key.contains(char::is_whitespace) {
            return Err((n + 1, format!("not a NAME=VALUE line {:?}", raw.trim_end())));
        }
        out.push((key.to_owned(), unquote(value.trim())));
    }
    Ok(out)
}

fn unquote(value: &str) -> String {
    for q in ['"', '\''] {
        if let Some(inner) = value.strip_prefix(q).and_then(|v| v.strip_suffix(q)) {
            return if q == '"' {
                inner.replace("\\n", "\n").replace("\\\"", "\"")
            } else {
                inner.to_owned()
            };
        }
    }
    // An unquoted value ends at a ` #` comment.
    value
        .find(" #")
        .map_or(value, |k| value[..k].trim_end())
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lines_comments_exports_and_quotes() {
        let text = "\
# comment
A=1
export B = two
C=\"quoted # not a comment\"
D='single'
E=plain # comment
F

G=
";
        let got = parse_env_file(text).unwrap();
        let want = [
            ("A", "1"),
            ("B", "two"),
            ("C", "quoted # not a comment"),
            ("D", "single"),
            ("E", "plain"),
            ("F", ""),
            ("G", ""),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn a_line_without_a_name_is_an_error() {
        assert_eq!(
            parse_env_file("A=1\n=x\n"),
            Err((2, "not a NAME=VALUE line \"=x\"".to_owned()))
        );
    }
}
