use super::*;

const MAX: usize = 1024;

#[test]
fn requests_and_their_bodies() {
    let get = b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /next";
    let head = parse_request(get, MAX).unwrap().unwrap();
    assert_eq!(head.len, get.len() - 9);
    assert_eq!(head.body, Body::None);
    assert!(!head.close && !head.is_head);
    let post = b"POST /o HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello";
    let head = parse_request(post, MAX).unwrap().unwrap();
    assert_eq!(head.body, Body::Length(5));
    assert!(head.expect_continue);
    let chunked = b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n";
    assert_eq!(
        parse_request(chunked, MAX).unwrap().unwrap().body,
        Body::Chunked
    );
    let old = b"GET / HTTP/1.0\r\n\r\n";
    assert!(parse_request(old, MAX).unwrap().unwrap().close);
    let old_ka = b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n";
    assert!(!parse_request(old_ka, MAX).unwrap().unwrap().close);
    let close = b"HEAD / HTTP/1.1\r\nConnection: close\r\n\r\n";
    let head = parse_request(close, MAX).unwrap().unwrap();
    assert!(head.close && head.is_head);
    assert_eq!(
        parse_request(b"GET / HTTP/1.1\r\nHost:", MAX).unwrap(),
        None
    );
}

#[test]
fn malformed_and_ambiguous_requests_are_refused() {
    let bad: [&[u8]; 7] = [
        b"GARBAGE\r\n\r\n",
        b"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n",
        b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        b"GET / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"GET / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
        b"CONNECT x:443 HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.1\r\nBad Header: x\r\n\r\n",
    ];
    for b in bad {
        assert!(
            matches!(parse_request(b, MAX), Err(HeadError::Malformed(_))),
            "{:?}",
            String::from_utf8_lossy(b)
        );
    }
    let long = format!("GET / HTTP/1.1\r\nX: {}\r\n", "a".repeat(2000));
    assert_eq!(
        parse_request(long.as_bytes(), MAX),
        Err(HeadError::TooLarge(MAX))
    );
}

#[test]
fn responses_and_their_bodies() {
    let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    let head = parse_response(ok, MAX, false).unwrap().unwrap();
    assert_eq!(
        (head.status, head.body, head.close),
        (200, Body::Length(2), false)
    );
    assert_eq!(
        parse_response(ok, MAX, true).unwrap().unwrap().body,
        Body::None
    );
    let eof = b"HTTP/1.1 200 OK\r\n\r\n";
    let head = parse_response(eof, MAX, false).unwrap().unwrap();
    assert_eq!((head.body, head.close), (Body::UntilClose, true));
    let nc = b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n";
    assert_eq!(
        parse_response(nc, MAX, false).unwrap().unwrap().body,
        Body::None
    );
    let chunked = b"HTTP/1.1 503 x\r\nTransfer-Encoding: chunked\r\n\r\n";
    let head = parse_response(chunked, MAX, false).unwrap().unwrap();
    assert_eq!((head.status, head.body), (503, Body::Chunked));
    assert!(parse_response(b"HTTP/9 what", MAX, false).is_err());
}

#[test]
fn chunked_scanner_finds_the_end_in_any_split() {
    let body =
        b"5;ext=1\r\nhello\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nTrailer: x\r\n\r\nNEXT";
    let end = body.len() - 4;
    for split in 1..body.len() {
        let mut s = ChunkedScanner::default();
        let (a, done) = s.feed(&body[..split]).unwrap();
        if done {
            assert_eq!(a, end);
            continue;
        }
        assert_eq!(a, split);
        let (b, done) = s.feed(&body[split..]).unwrap();
        assert!(done, "split {split}");
        assert_eq!(a + b, end);
    }
    let mut s = ChunkedScanner::default();
    assert_eq!(s.feed(b"0\r\n\r\n").unwrap(), (5, true));
    for bad in [&b"zz\r\n"[..], b"\r\n", b"5\r\nhelloXX"] {
        assert!(ChunkedScanner::default().feed(bad).is_err(), "{bad:?}");
    }
}
