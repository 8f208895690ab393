//! HTTP/1.x message framing for the `http` proxy, the least it must know
//! to pass messages through unchanged: where a head ends (httparse), how
//! the body is delimited (RFC 9112 section 6), whether the connection stays
//! open, and a scanner that finds the end of a chunked body without
//! decoding it. Heads and bodies are forwarded as the bytes that came.
//!
//! Pure. Ambiguous framing (both `Transfer-Encoding` and `Content-Length`,
//! differing lengths, a request coding other than chunked) is rejected, as
//! a request-smuggling guard.

/// How many header lines a head may have.
pub const MAX_HEADERS: usize = 128;

/// How a message body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    None,
    Length(u64),
    Chunked,
    /// Until the server closes the connection (responses only).
    UntilClose,
}

/// What the proxy needs of a request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    /// Bytes of the head, CRLFCRLF included.
    pub len: usize,
    pub is_head: bool,
    pub body: Body,
    /// The client wants the connection closed after the response.
    pub close: bool,
    pub expect_continue: bool,
}

/// What the proxy needs of a response head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    pub len: usize,
    pub status: u16,
    pub body: Body,
    pub close: bool,
}

/// Why a head is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeadError {
    #[error("head larger than {0} bytes")]
    TooLarge(usize),
    #[error("malformed head: {0}")]
    Malformed(String),
}

fn malformed(reason: impl Into<String>) -> HeadError {
    HeadError::Malformed(reason.into())
}

/// The framing headers of a head.
#[derive(Default)]
struct Framing {
    length: Option<u64>,
    transfer_encoding: Option<String>,
    close: bool,
    keep_alive: bool,
    expect_continue: bool,
}

fn framing(headers: &[httparse::Header<'_>]) -> Result<Framing, HeadError> {
    let mut f = Framing::default();
    for h in headers {
        let value =
            std::str::from_utf8(h.value).map_err(|_| malformed("a header value is not text"))?;
        if h.name.eq_ignore_ascii_case("content-length") {
            for part in value.split(',') {
                let part = part.trim();
                if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(malformed(format!("invalid content-length {value:?}")));
                }
                let n: u64 = part
                    .parse()
                    .map_err(|_| malformed("content-length too large"))?;
                if f.length.is_some_and(|old| old != n) {
                    return Err(malformed("conflicting content-length headers"));
                }
                f.length = Some(n);
            }
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            let te = f.transfer_encoding.get_or_insert_with(String::new);
            if !te.is_empty() {
                te.push(',');
            }
            te.push_str(&value.to_ascii_lowercase());
        } else if h.name.eq_ignore_ascii_case("connection") {
            for token in value.split(',').map(str::trim) {
                f.close |= token.eq_ignore_ascii_case("close");
                f.keep_alive |= token.eq_ignore_ascii_case("keep-alive");
            }
        } else if h.name.eq_ignore_ascii_case("expect") {
            f.expect_continue |= value.trim().eq_ignore_ascii_case("100-continue");
        }
    }
    Ok(f)
}

fn chunked_last(te: &str) -> bool {
    te.rsplit(',')
        .next()
        .is_some_and(|last| last.trim() == "chunked")
}

/// Parses a request head at the start of `buf`; `None` while incomplete.
pub fn parse_request(buf: &[u8], max: usize) -> Result<Option<RequestHead>, HeadError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let len = match req.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) if buf.len() > max => return Err(HeadError::TooLarge(max)),
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(malformed(e.to_string())),
    };
    if len > max {
        return Err(HeadError::TooLarge(max));
    }
    let method = req.method.unwrap_or_default();
    if method.eq_ignore_ascii_case("CONNECT") {
        return Err(malformed("CONNECT is not proxied"));
    }
    let f = framing(req.headers)?;
    let body = match (&f.transfer_encoding, f.length) {
        (Some(_), Some(_)) => return Err(malformed("both transfer-encoding and content-length")),
        (Some(te), None) if chunked_last(te) => Body::Chunked,
        (Some(te), None) => return Err(malformed(format!("unsupported transfer-encoding {te:?}"))),
        (None, Some(0) | None) => Body::None,
        (None, Some(n)) => Body::Length(n),
    };
    let http10 = req.version == Some(0);
    Ok(Some(RequestHead {
        len,
        is_head: method.eq_ignore_ascii_case("HEAD"),
        body,
        close: f.close || (http10 && !f.keep_alive),
        expect_continue: f.expect_continue && body != Body::None,
    }))
}

/// Parses a response head at the start of `buf`; `None` while incomplete.
/// `to_head` says whether it answers a HEAD request (no body then).
pub fn parse_response(
    buf: &[u8],
    max: usize,
    to_head: bool,
) -> Result<Option<ResponseHead>, HeadError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut res = httparse::Response::new(&mut headers);
    let len = match res.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) if buf.len() > max => return Err(HeadError::TooLarge(max)),
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(malformed(e.to_string())),
    };
    if len > max {
        return Err(HeadError::TooLarge(max));
    }
    let status = res.code.unwrap_or_default();
    let f = framing(res.headers)?;
    let body = if to_head || (100..200).contains(&status) || status == 204 || status == 304 {
        Body::None
    } else {
        match (&f.transfer_encoding, f.length) {
            (Some(te), _) if chunked_last(te) => Body::Chunked,
            (Some(_), _) | (None, None) => Body::UntilClose,
            (None, Some(0)) => Body::None,
            (None, Some(n)) => Body::Length(n),
        }
    };
    let http10 = res.version == Some(0);
    Ok(Some(ResponseHead {
        len,
        status,
        body,
        close: f.close || (http10 && !f.keep_alive) || body == Body::UntilClose,
    }))
}

/// Finds the end of a chunked body (chunks, last chunk, trailers) in the
/// bytes as they come.
#[derive(Debug, Default)]
pub struct ChunkedScanner {
    state: State,
    size: u64,
    digits: u8,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum State {
    #[default]
    Size,
    Extension,
    SizeLf,
    Data,
    DataCr,
    DataLf,
    TrailerStart,
    TrailerLine,
    TrailerLf,
    EndLf,
    Done,
}

impl ChunkedScanner {
    /// Consumes a prefix of `data`; returns its length and whether the body
    /// ends there. Bytes after the end belong to the next message.
    pub fn feed(&mut self, data: &[u8]) -> Result<(usize, bool), HeadError> {
        let mut i = 0;
        while i < data.len() {
            if self.state == State::Data {
                let take = usize::try_from(self.size)
                    .unwrap_or(usize::MAX)
                    .min(data.len() - i);
                i += take;
                self.size -= take as u64;
                if self.size == 0 {
                    self.state = State::DataCr;
                }
                continue;
            }
            let b = data[i];
            i += 1;
            self.state = match (self.state, b) {
                (State::Size, b) if b.is_ascii_hexdigit() => {
                    self.digits += 1;
                    if self.digits > 16 {
                        return Err(malformed("chunk size too large"));
                    }
                    let digit = u64::from(char::from(b).to_digit(16).unwrap_or(0));
                    self.size = self.size * 16 + digit;
                    State::Size
                }
                (State::Size, b';' | b' ' | b'\t') if self.digits > 0 => State::Extension,
                (State::Size, b'\r') if self.digits > 0 => State::SizeLf,
                (State::Extension, b'\r') => State::SizeLf,
                (State::Extension, _) => State::Extension,
                (State::SizeLf, b'\n') if self.size == 0 => State::TrailerStart,
                (State::SizeLf, b'\n') => State::Data,
                (State::DataCr, b'\r') => State::DataLf,
                (State::DataLf, b'\n') => {
                    self.digits = 0;
                    State::Size
                }
                (State::TrailerStart, b'\r') => State::EndLf,
                (State::TrailerLine, b'\r') => State::TrailerLf,
                (State::TrailerStart | State::TrailerLine, _) => State::TrailerLine,
                (State::TrailerLf, b'\n') => State::TrailerStart,
                (State::EndLf, b'\n') => {
                    self.state = State::Done;
                    return Ok((i, true));
                }
                (state, _) => return Err(malformed(format!("bad chunked encoding in {state:?}"))),
            };
        }
        Ok((i, self.state == State::Done))
    }
}

#[cfg(test)]
mod tests;
