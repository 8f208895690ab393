use bytes::Bytes;
use proptest::prelude::*;

use super::*;

/// Feeds `input` to a parser in pieces of `split` bytes, as reads would
/// deliver them, keeping unconsumed bytes like the connection's buffer.
/// Returns the response and the bytes left over after it.
fn parse_in_pieces(
    head_request: bool,
    input: &[u8],
    split: usize,
    eof: bool,
) -> Result<(Response, Vec<u8>), HttpError> {
    let mut parser = ResponseParser::new(head_request);
    let mut buf: Vec<u8> = Vec::new();
    let mut offered = 0;
    loop {
        let (used, parsed) = parser.parse(&buf)?;
        buf.drain(..used);
        if let Parsed::Complete(response) = parsed {
            buf.extend_from_slice(&input[offered..]);
            return Ok((response, buf));
        }
        if offered == input.len() {
            return if eof {
                parser.eof().map(|r| (r, buf))
            } else {
                Err(HttpError::Incomplete)
            };
        }
        let end = (offered + split).min(input.len());
        buf.extend_from_slice(&input[offered..end]);
        offered = end;
    }
}

fn parse_all(input: &[u8]) -> Result<(Response, Vec<u8>), HttpError> {
    parse_in_pieces(false, input, input.len().max(1), false)
}

#[test]
fn content_length_body_is_consumed_and_the_next_response_kept() {
    let input = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 404";
    let (response, rest) = parse_all(input).unwrap();
    assert_eq!(
        response,
        Response {
            status: 200,
            keep_alive: true
        }
    );
    assert_eq!(rest, b"HTTP/1.1 404");
}

#[test]
fn chunked_body_with_extensions_and_trailers() {
    let input = b"HTTP/1.1 201 Created\r\nTransfer-Encoding: gzip, chunked\r\n\r\n\
        5;name=v\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: 1\r\n\r\nNEXT";
    let (response, rest) = parse_all(input).unwrap();
    assert_eq!(response.status, 201);
    assert!(response.keep_alive);
    assert_eq!(rest, b"NEXT");
}

#[test]
fn chunked_body_split_across_reads_at_every_position() {
    let input = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n\
        3\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n";
    for split in 1..input.len() {
        let (response, rest) = parse_in_pieces(false, input, split, false)
            .unwrap_or_else(|e| panic!("split {split}: {e}"));
        assert_eq!(response.status, 200, "split {split}");
        assert!(rest.is_empty(), "split {split}");
    }
}

#[test]
fn close_delimited_body_ends_at_eof() {
    let input = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end";
    let (response, _) = parse_in_pieces(false, input, 7, true).unwrap();
    assert_eq!(
        response,
        Response {
            status: 200,
            keep_alive: false
        }
    );
    assert_eq!(
        parse_in_pieces(false, input, 7, false),
        Err(HttpError::Incomplete)
    );
}

#[test]
fn eof_inside_a_length_body_is_an_error() {
    let input = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort";
    assert_eq!(
        parse_in_pieces(false, input, 4, true),
        Err(HttpError::Incomplete)
    );
}

#[test]
fn interim_1xx_heads_are_skipped() {
    let input = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n\
        HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    for split in [1, 3, input.len()] {
        let (response, rest) = parse_in_pieces(false, input, split, false).unwrap();
        assert_eq!(response.status, 200);
        assert!(rest.is_empty());
    }
}

#[test]
fn no_body_for_204_304_and_head() {
    for (head_request, input) in [
        (
            false,
            &b"HTTP/1.1 204 No Content\r\nContent-Length: 99\r\n\r\nNEXT"[..],
        ),
        (
            false,
            &b"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\nNEXT"[..],
        ),
        (
            true,
            &b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\nNEXT"[..],
        ),
    ] {
        let (response, rest) = parse_in_pieces(head_request, input, input.len(), false).unwrap();
        assert!(response.keep_alive);
        assert_eq!(rest, b"NEXT", "{}", String::from_utf8_lossy(input));
    }
}

#[test]
fn connection_close_and_http10_keep_alive() {
    let (r, _) =
        parse_all(b"HTTP/1.1 503 Busy\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").unwrap();
    assert_eq!((r.status, r.keep_alive), (503, false));
    let (r, _) = parse_all(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").unwrap();
    assert!(!r.keep_alive);
    let (r, _) =
        parse_all(b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n")
            .unwrap();
    assert!(r.keep_alive);
}

#[test]
fn malformed_responses_are_errors() {
    for input in [
        &b"HTP/1.1 200 OK\r\n\r\n"[..],
        b"HTTP/1.1 2x0 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY",
    ] {
        assert!(
            parse_all(input).is_err(),
            "accepted {}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn an_endless_head_is_refused() {
    let mut input = b"HTTP/1.1 200 OK\r\n".to_vec();
    while input.len() <= MAX_HEAD {
        input.extend_from_slice(b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
    }
    assert!(matches!(
        parse_in_pieces(false, &input, 4096, false),
        Err(HttpError::HeadTooLarge | HttpError::Head(_))
    ));
}

#[test]
fn encodes_a_request_once() {
    let spec = RequestSpec {
        method: "POST".into(),
        path: "/orders?x=1".into(),
        headers: vec![
            ("Content-Type".into(), "application/json".into()),
            ("content-length".into(), "999".into()),
        ],
        body: Some(Bytes::from_static(b"{\"a\":1}")),
        endpoint: "POST /orders".into(),
    };
    let bytes = encode_request(&spec, "127.0.0.1:8080", "/api").unwrap();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    assert!(
        text.starts_with("POST /api/orders?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"),
        "{text}"
    );
    assert!(text.contains("\r\nContent-Type: application/json\r\n"));
    assert!(
        text.ends_with("Content-Length: 7\r\n\r\n{\"a\":1}"),
        "{text}"
    );
    assert!(!text.contains("999"));
}

#[test]
fn refuses_requests_that_would_break_framing() {
    let mut spec = RequestSpec::get("/a b");
    assert!(encode_request(&spec, "h", "").is_err());
    spec = RequestSpec::get("/");
    spec.headers
        .push(("X-Evil".into(), "a\r\nInjected: 1".into()));
    let err = encode_request(&spec, "h", "").unwrap_err().to_string();
    assert!(err.contains("header value"), "{err}");
    spec = RequestSpec::get("/");
    spec.method = "GE T".into();
    assert!(encode_request(&spec, "h", "").is_err());
}

#[test]
fn joins_base_and_request_paths() {
    assert_eq!(join_path("", "/x"), "/x");
    assert_eq!(join_path("", "x"), "/x");
    assert_eq!(join_path("/api/", "/x"), "/api/x");
    assert_eq!(join_path("/api", "x?q"), "/api/x?q");
    assert_eq!(join_path("/api", ""), "/api");
    assert_eq!(join_path("/api", "?q=1"), "/api?q=1");
}

proptest! {
    /// Any body, chunked any way, read in pieces of any size, parses to the
    /// end and leaves the next response's bytes untouched.
    #[test]
    fn chunked_bodies_parse_whatever_the_split(
        chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..40), 0..6),
        split in 1usize..50,
    ) {
        let mut input = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        for chunk in &chunks {
            input.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            input.extend_from_slice(chunk);
            input.extend_from_slice(b"\r\n");
        }
        input.extend_from_slice(b"0\r\n\r\nHTTP/1.1");
        let (response, rest) = parse_in_pieces(false, &input, split, false).unwrap();
        prop_assert_eq!(response.status, 200);
        prop_assert_eq!(rest, b"HTTP/1.1".to_vec());
    }
}
