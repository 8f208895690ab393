//! URL pieces the roles need, without a URL crate: percent-decoding and
//! query parameters.

/// Decodes `%XX` escapes (and `+` as space when `plus_is_space`, as in
/// query strings). `None` when an escape is broken or the result is not
/// UTF-8.
pub fn percent_decode(text: &str, plus_is_space: bool) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// The decoded value of the first `name=value` pair in a query string
/// (`Some("")` for `name` or `name=`).
pub fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(key, true)? == name).then(|| percent_decode(value, true))?
    })
}

/// Percent-encodes everything outside the unreserved set (RFC 3986).
pub fn percent_encode(text: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_escapes_and_plus() {
        assert_eq!(percent_decode("a%20b+c", true).as_deref(), Some("a b c"));
        assert_eq!(percent_decode("a%20b+c", false).as_deref(), Some("a b+c"));
        assert_eq!(percent_decode("caf%C3%A9", false).as_deref(), Some("café"));
        for broken in ["%", "%2", "%zz", "%ff"] {
            assert_eq!(percent_decode(broken, false), None, "{broken}");
        }
    }

    #[test]
    fn finds_query_parameters() {
        let q = Some("x=1&q=red+lamp&q=second&flag&prefix=cart%3A");
        assert_eq!(query_param(q, "q").as_deref(), Some("red lamp"));
        assert_eq!(query_param(q, "flag").as_deref(), Some(""));
        assert_eq!(query_param(q, "prefix").as_deref(), Some("cart:"));
        assert_eq!(query_param(q, "missing"), None);
        assert_eq!(query_param(None, "q"), None);
    }

    #[test]
    fn encoding_round_trips() {
        for text in ["cart:alice", "a b/c?d", "é", ""] {
            assert_eq!(
                percent_decode(&percent_encode(text), false).as_deref(),
                Some(text)
            );
        }
        assert_eq!(percent_encode("cart:a b"), "cart%3Aa%20b");
    }
}
