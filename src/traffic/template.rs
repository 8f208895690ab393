//! Path templates: `/api/orders/8f14e45f-ceea-467f-a0e6-0c5f4f3b2a10/items/42?x=1`
//! becomes `/api/orders/{id}/items/{id}`, so the request mix groups by
//! endpoint rather than by concrete URL. Pure; allocation-free when writing
//! into a reused buffer ([`template_into`]).
//!
//! A path segment collapses to `{id}` when it is
//! - all digits (`42`, `0`);
//! - a UUID (`8-4-4-4-12` hex digits);
//! - a hex string of at least 8 characters with at least one digit
//!   (`5f3e2a1b`, a git SHA) — `deadbeef` has no digit and stays;
//! - a mixed token of at least 6 letters, digits, `-` or `_` with at least two
//!   digits and one letter that looks generated: a run of 4 or more digits
//!   (`user-12345`, `INV2024001`), or 4 or more switches between letters and
//!   digits (`ord_8f3k2Lq9`, `a1b2c3`), or 3 switches in 8 or more characters
//!   (`AB12CD34`). `v1`, `oauth2`, `sha256`, `v2beta1` and `x86_64` stay;
//! - a word of letters, a `-` or `_`, and a number (`user-16`, `order_42`).
//!
//! A file extension after an id is kept (`/img/42.png` -> `/img/{id}.png`).
//! The query string and fragment are dropped from the template (they are
//! kept in the examples). An absolute URL (`http://host/x`, as in HAR files
//! and proxy request lines) is reduced to its path first.

/// The placeholder an id collapses to.
pub const ID: &str = "{id}";

/// The template of `path` (see the module docs).
pub fn template(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    template_into(path, &mut out);
    out
}

/// Appends the template of `path` to `out`.
pub fn template_into(path: &str, out: &mut String) {
    let path = strip_query(origin_form(path));
    if path.is_empty() {
        out.push('/');
        return;
    }
    let mut first = true;
    for segment in path.split('/') {
        if !first {
            out.push('/');
        }
        first = false;
        push_segment(segment, out);
    }
}

/// The path and query of an absolute URL (`https://h:8/a?b` -> `/a?b`);
/// other targets unchanged.
pub fn origin_form(target: &str) -> &str {
    let Some(scheme_end) = target.find("://") else {
        return target;
    };
    let scheme = &target[..scheme_end];
    if scheme.is_empty()
        || !scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+')
    {
        return target;
    }
    let rest = &target[scheme_end + 3..];
    match rest.find(['/', '?', '#']) {
        Some(i) if rest.as_bytes()[i] == b'/' => &rest[i..],
        // `http://host?q` has an empty path: the template is `/`.
        Some(i) => &rest[i..],
        None => "/",
    }
}

/// The path without its query string or fragment.
pub fn strip_query(path: &str) -> &str {
    path.find(['?', '#']).map_or(path, |i| &path[..i])
}

fn push_segment(segment: &str, out: &mut String) {
    if is_id(segment) {
        out.push_str(ID);
        return;
    }
    // An id with a file extension: `42.json`, `5f3e2a1b9c.png`.
    if let Some(dot) = segment.rfind('.') {
        let (stem, ext) = (&segment[..dot], &segment[dot + 1..]);
        if (1..=5).contains(&ext.len())
            && ext.bytes().all(|b| b.is_ascii_alphanumeric())
            && ext.bytes().any(|b| b.is_ascii_alphabetic())
            && is_id(stem)
        {
            out.push_str(ID);
            out.push('.');
            out.push_str(ext);
            return;
        }
    }
    out.push_str(segment);
}

/// Whether a path segment is an id (see the module docs).
pub fn is_id(segment: &str) -> bool {
    let b = segment.as_bytes();
    if b.is_empty() {
        return false;
    }
    if b.iter().all(u8::is_ascii_digit) {
        return true;
    }
    is_uuid(b) || is_hex_id(b) || is_mixed_id(b) || is_numbered_name(b)
}

/// A word, a `-` or `_`, and a number: `user-16`, `order_42`, `item-7`.
/// (`x86_64` and `api-v2` stay: the word must be letters, the tail digits.)
fn is_numbered_name(b: &[u8]) -> bool {
    let Some(sep) = b.iter().rposition(|c| *c == b'-' || *c == b'_') else {
        return false;
    };
    let (word, number) = (&b[..sep], &b[sep + 1..]);
    !word.is_empty()
        && !number.is_empty()
        && word.iter().all(u8::is_ascii_alphabetic)
        && number.iter().all(u8::is_ascii_digit)
}

fn is_uuid(b: &[u8]) -> bool {
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn is_hex_id(b: &[u8]) -> bool {
    b.len() >= 8 && b.iter().all(u8::is_ascii_hexdigit) && b.iter().any(u8::is_ascii_digit)
}

fn is_mixed_id(b: &[u8]) -> bool {
    if b.len() < 6
        || !b
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'_')
    {
        return false;
    }
    let digits = b.iter().filter(|c| c.is_ascii_digit()).count();
    if digits < 2 || !b.iter().any(u8::is_ascii_alphabetic) {
        return false;
    }
    let mut longest_run = 0;
    let mut run = 0;
    let mut switches = 0;
    let mut last_digit: Option<bool> = None;
    for c in b {
        if c.is_ascii_digit() {
            run += 1;
            longest_run = longest_run.max(run);
        } else {
            run = 0;
        }
        if c.is_ascii_alphanumeric() {
            let digit = c.is_ascii_digit();
            if last_digit.is_some_and(|d| d != digit) {
                switches += 1;
            }
            last_digit = Some(digit);
        }
    }
    longest_run >= 4 || switches >= 4 || (switches >= 3 && b.len() >= 8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_collapse() {
        assert_eq!(template("/api/products/42"), "/api/products/{id}");
        assert_eq!(
            template("/api/products/0/reviews/7"),
            "/api/products/{id}/reviews/{id}"
        );
        assert_eq!(template("/api/v1/users"), "/api/v1/users");
    }

    #[test]
    fn uuids_collapse() {
        assert_eq!(
            template("/orders/8f14e45f-ceea-467f-a0e6-0c5f4f3b2a10/items"),
            "/orders/{id}/items"
        );
        assert_eq!(
            template("/orders/8F14E45F-CEEA-467F-A0E6-0C5F4F3B2A10"),
            "/orders/{id}"
        );
        // One character short is no UUID, but still a generated token.
        assert_eq!(
            template("/orders/8f14e45f-ceea-467f-a0e6-0c5f4f3b2a1"),
            "/orders/{id}"
        );
        assert_eq!(template("/orders/new-arrivals"), "/orders/new-arrivals");
    }

    #[test]
    fn hex_collapses_with_a_digit_and_eight_chars() {
        assert_eq!(template("/commits/5f3e2a1b"), "/commits/{id}");
        assert_eq!(
            template("/blobs/da39a3ee5e6b4b0d3255bfef95601890afd80709"),
            "/blobs/{id}"
        );
        assert_eq!(template("/tags/deadbeef"), "/tags/deadbeef");
        // Seven hex characters: a short git SHA, caught by the mixed-id rule.
        assert_eq!(template("/c/5f3e2a1"), "/c/{id}");
        assert_eq!(template("/c/ab12"), "/c/ab12");
        assert_eq!(template("/api/feed/cafe"), "/api/feed/cafe");
    }

    #[test]
    fn mixed_ids_collapse_but_words_with_digits_stay() {
        for id in [
            "user-12345",
            "INV2024001",
            "ord_8f3k2Lq9",
            "a1b2c3",
            "AB12CD34",
            "user-16",
            "order_4",
        ] {
            assert!(is_id(id), "{id}");
            assert_eq!(template(&format!("/x/{id}")), "/x/{id}");
        }
        for word in [
            "v1", "oauth2", "sha256", "v2beta1", "x86_64", "api", "h2c", "my%20doc", "api-v2",
            "-12", "users-",
        ] {
            assert!(!is_id(word), "{word}");
        }
    }

    #[test]
    fn ids_keep_their_extension() {
        assert_eq!(template("/img/42.png"), "/img/{id}.png");
        assert_eq!(template("/docs/readme.md"), "/docs/readme.md");
        assert_eq!(template("/v/1.2"), "/v/1.2");
    }

    #[test]
    fn the_query_and_fragment_are_dropped() {
        assert_eq!(template("/api/search?q=shoes&page=2"), "/api/search");
        assert_eq!(
            template("/api/products/42?fields=name"),
            "/api/products/{id}"
        );
        assert_eq!(template("/a#frag"), "/a");
        assert_eq!(template("/?x=1"), "/");
    }

    #[test]
    fn root_empty_and_trailing_slashes() {
        assert_eq!(template("/"), "/");
        assert_eq!(template(""), "/");
        assert_eq!(template("/api/products/"), "/api/products/");
        assert_eq!(template("/a//42"), "/a//{id}");
        assert_eq!(template("*"), "*");
    }

    #[test]
    fn absolute_urls_reduce_to_their_path() {
        assert_eq!(
            template("https://shop.example:8443/api/products/42?x=1"),
            "/api/products/{id}"
        );
        assert_eq!(template("http://shop.example"), "/");
        assert_eq!(template("http://shop.example?x"), "/");
        assert_eq!(origin_form("https://h/a?b"), "/a?b");
        assert_eq!(origin_form("/a/b"), "/a/b");
        assert_eq!(
            origin_form("/redirect?to=http://x/y"),
            "/redirect?to=http://x/y"
        );
    }

    #[test]
    fn template_into_appends() {
        let mut out = String::from("GET ");
        template_into("/api/products/42", &mut out);
        assert_eq!(out, "GET /api/products/{id}");
    }

    proptest::proptest! {
        /// Templating never panics, is idempotent and keeps no query.
        #[test]
        fn templates_are_idempotent(path in "(/[a-zA-Z0-9_%.-]{0,12}){0,5}(\\?[a-z=&0-9]{0,8})?") {
            let t = template(&path);
            proptest::prop_assert_eq!(template(&t), t.clone());
            proptest::prop_assert!(!t.contains('?'));
            proptest::prop_assert!(t.starts_with('/'));
        }
    }
}
