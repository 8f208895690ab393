//! HTTP/1.1 as the load engine speaks it (pure, no I/O): each request is
//! encoded once into bytes before the run, and responses are read by an
//! incremental parser that consumes whatever bytes have arrived.
//!
//! Owns: request encoding (request line, `Host`, `User-Agent`,
//! `Content-Length`), and response framing per RFC 9112 §6.3: interim 1xx
//! heads are skipped; HEAD answers, 204 and 304 have no body; then
//! `Transfer-Encoding: chunked` (chunk extensions and trailers skipped),
//! `Content-Length`, or a body delimited by the connection closing. Body
//! bytes are counted and dropped, never stored. Heads are parsed by
//! `httparse`. Does not own sockets, buffers or timeouts (`engine/conn.rs`).

use bytes::Bytes;

use super::workload::RequestSpec;

/// The largest response head accepted (status line and headers).
pub const MAX_HEAD: usize = 64 * 1024;
/// The longest chunk-size or trailer line accepted.
const MAX_LINE: usize = 4096;
/// Headers parsed per response head.
const MAX_HEADERS: usize = 64;

/// Why a request could not be encoded or a response could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    #[error("invalid request {what} {value:?}: {reason}")]
    Request {
        what: &'static str,
        value: String,
        reason: &'static str,
    },
    #[error("malformed response head: {0}")]
    Head(String),
    #[error("response head larger than {MAX_HEAD} bytes")]
    HeadTooLarge,
    #[error("invalid Content-Length {0:?}")]
    ContentLength(String),
    #[error("unsupported Transfer-Encoding {0:?}")]
    TransferEncoding(String),
    #[error("malformed chunk: {0}")]
    Chunk(&'static str),
    #[error("the connection closed before the response was complete")]
    Incomplete,
}

/// Encodes `spec` for `authority` (the `Host` header), prefixing `base_path`
/// (no trailing slash, may be empty) to the request path.
pub fn encode_request(
    spec: &RequestSpec,
    authority: &str,
    base_path: &str,
) -> Result<Bytes, HttpError> {
    let bad = |what, value: &str, reason| HttpError::Request {
        what,
        value: value.to_owned(),
        reason,
    };
    if spec.method.is_empty() || !spec.method.bytes().all(is_token) {
        return Err(bad("method", &spec.method, "not an HTTP token"));
    }
    let path = join_path(base_path, &spec.path);
    if !path.starts_with('/') || path.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(bad(
            "path",
            &path,
            "must start with / and contain no spaces or controls",
        ));
    }
    let mut out = Vec::with_capacity(128 + spec.body.as_ref().map_or(0, Bytes::len));
    push(&mut out, &[&spec.method, " ", &path, " HTTP/1.1\r\n"]);
    let has = |name: &str| {
        spec.headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case(name))
    };
    if !has("host") {
        push(&mut out, &["Host: ", authority, "\r\n"]);
    }
    if !has("user-agent") {
        push(
            &mut out,
            &["User-Agent: understudy/", env!("CARGO_PKG_VERSION"), "\r\n"],
        );
    }
    for (name, value) in &spec.headers {
        if name.is_empty() || !name.bytes().all(is_token) {
            return Err(bad("header name", name, "not an HTTP token"));
        }
        if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
            return Err(bad("header value", value, "contains CR, LF or NUL"));
        }
        if name.eq_ignore_ascii_case("content-length") {
            continue;
        }
        push(&mut out, &[name, ": ", value, "\r\n"]);
    }
    if let Some(body) = &spec.body {
        push(
            &mut out,
            &["Content-Length: ", &body.len().to_string(), "\r\n"],
        );
    }
    out.extend_from_slice(b"\r\n");
    if let Some(body) = &spec.body {
        out.extend_from_slice(body);
    }
    Ok(Bytes::from(out))
}

/// `base` + `path`, with exactly one slash between them.
pub fn join_path(base: &str, path: &str) -> String {
    let base = base.trim_end_matches('/');
    match (base.is_empty(), path.starts_with('/')) {
        (true, true) => path.to_owned(),
        (true, false) => format!("/{path}"),
        (false, true) => format!("{base}{path}"),
        (false, false) if path.is_empty() || path.starts_with('?') => format!("{base}{path}"),
        (false, false) => format!("{base}/{path}"),
    }
}

fn push(out: &mut Vec<u8>, parts: &[&str]) {
    for part in parts {
        out.extend_from_slice(part.as_bytes());
    }
}

/// RFC 9110 `tchar`.
fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// A complete response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    /// Whether the connection may carry the next request.
    pub keep_alive: bool,
}

/// What one call to [`ResponseParser::parse`] achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed {
    /// More bytes are needed.
    Partial,
    Complete(Response),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Head,
    Length(u64),
    ChunkSize,
    ChunkData(u64),
    ChunkDataEnd,
    Trailer,
    UntilClose,
    Done,
}

/// Reads one response at a time from a byte stream.
#[derive(Debug, Clone)]
pub struct ResponseParser {
    head_request: bool,
    state: State,
    status: u16,
    keep_alive: bool,
}

impl ResponseParser {
    /// A parser for the answer to a request; `head_request` when it was a
    /// HEAD (whose answer has no body whatever its headers say).
    pub fn new(head_request: bool) -> Self {
        Self {
            head_request,
            state: State::Head,
            status: 0,
            keep_alive: true,
        }
    }

    /// Consumes bytes of `input`: returns how many, and whether the response
    /// is complete. Bytes after a complete response are not consumed. An
    /// incomplete head consumes nothing: call again with more bytes appended.
    pub fn parse(&mut self, input: &[u8]) -> Result<(usize, Parsed), HttpError> {
        let mut used = 0;
        loop {
            let rest = &input[used..];
            let (n, progressed) = match self.state {
                State::Done => {
                    return Ok((used, Parsed::Complete(self.response())));
                }
                State::Head => self.head(rest)?,
                State::Length(left) => {
                    let n = rest.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                    let left = left - n as u64;
                    self.state = if left == 0 {
                        State::Done
                    } else {
                        State::Length(left)
                    };
                    (n, left == 0)
                }
                State::ChunkSize => self.chunk_size(rest)?,
                State::ChunkData(left) => {
                    let n = rest.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                    let left = left - n as u64;
                    self.state = if left == 0 {
                        State::ChunkDataEnd
                    } else {
                        State::ChunkData(left)
                    };
                    (n, left == 0)
                }
                State::ChunkDataEnd => match rest {
                    [b'\r', b'\n', ..] => {
                        self.state = State::ChunkSize;
                        (2, true)
                    }
                    [] | [b'\r'] => (0, false),
                    _ => return Err(HttpError::Chunk("missing CRLF after chunk data")),
                },
                State::Trailer => self.trailer(rest)?,
                State::UntilClose => (rest.len(), false),
            };
            used += n;
            if !progressed {
                return Ok((used, Parsed::Partial));
            }
        }
    }

    /// The peer closed the connection: completes a close-delimited body.
    pub fn eof(&mut self) -> Result<Response, HttpError> {
        match self.state {
            State::UntilClose | State::Done => {
                self.state = State::Done;
                self.keep_alive = false;
                Ok(self.response())
            }
            _ => Err(HttpError::Incomplete),
        }
    }

    fn response(&self) -> Response {
        Response {
            status: self.status,
            keep_alive: self.keep_alive,
        }
    }

    fn head(&mut self, input: &[u8]) -> Result<(usize, bool), HttpError> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut head = httparse::Response::new(&mut headers);
        let n = match head.parse(input) {
            Ok(httparse::Status::Complete(n)) => n,
            Ok(httparse::Status::Partial) if input.len() >= MAX_HEAD => {
                return Err(HttpError::HeadTooLarge);
            }
            Ok(httparse::Status::Partial) => return Ok((0, false)),
            Err(e) => return Err(HttpError::Head(e.to_string())),
        };
        let status = head.code.unwrap_or(0);
        self.status = status;
        if (100..200).contains(&status) && status != 101 {
            // Interim response: the real one follows.
            return Ok((n, true));
        }
        let http10 = head.version == Some(0);
        let mut keep_alive = !http10;
        let mut length: Option<u64> = None;
        let mut chunked = false;
        for header in head.headers.iter() {
            let value = trim(header.value);
            if header.name.eq_ignore_ascii_case("content-length") {
                let parsed = std::str::from_utf8(value)
                    .ok()
                    .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                    .and_then(|v| v.parse::<u64>().ok())
                    .ok_or_else(|| lossy_err(value, HttpError::ContentLength))?;
                if length.is_some_and(|l| l != parsed) {
                    return Err(lossy_err(value, HttpError::ContentLength));
                }
                length = Some(parsed);
            } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
                let last = value.rsplit(|&b| b == b',').next().map_or(&[][..], trim);
                if last.eq_ignore_ascii_case(b"chunked") {
                    chunked = true;
                } else if !last.eq_ignore_ascii_case(b"identity") {
                    return Err(lossy_err(value, HttpError::TransferEncoding));
                }
            } else if header.name.eq_ignore_ascii_case("connection") {
                for token in value.split(|&b| b == b',').map(trim) {
                    if token.eq_ignore_ascii_case(b"close") {
                        keep_alive = false;
                    } else if token.eq_ignore_ascii_case(b"keep-alive") && http10 {
                        keep_alive = true;
                    }
                }
            }
        }
        self.keep_alive = keep_alive && status != 101;
        self.state = if self.head_request || status == 204 || status == 304 || status == 101 {
            State::Done
        } else if chunked {
            State::ChunkSize
        } else if let Some(length) = length {
            if length == 0 {
                State::Done
            } else {
                State::Length(length)
            }
        } else {
            self.keep_alive = false;
            State::UntilClose
        };
        Ok((n, true))
    }

    fn chunk_size(&mut self, input: &[u8]) -> Result<(usize, bool), HttpError> {
        let Some(line_len) = line(input)? else {
            return Ok((0, false));
        };
        let digits = &input[..line_len];
        let digits = digits
            .iter()
            .position(|&b| b == b';')
            .map_or(digits, |i| &digits[..i]);
        let digits = trim(digits);
        if digits.is_empty() || digits.len() > 15 {
            return Err(HttpError::Chunk("bad chunk size"));
        }
        let mut size: u64 = 0;
        for &b in digits {
            let d = (b as char)
                .to_digit(16)
                .ok_or(HttpError::Chunk("bad chunk size"))?;
            size = size * 16 + u64::from(d);
        }
        self.state = if size == 0 {
            State::Trailer
        } else {
            State::ChunkData(size)
        };
        Ok((line_len + 2, true))
    }

    fn trailer(&mut self, input: &[u8]) -> Result<(usize, bool), HttpError> {
        let Some(line_len) = line(input)? else {
            return Ok((0, false));
        };
        if line_len == 0 {
            self.state = State::Done;
        }
        Ok((line_len + 2, true))
    }
}

/// The length of the CRLF-terminated line at the start of `input` (without
/// the CRLF), or None when it has not fully arrived.
fn line(input: &[u8]) -> Result<Option<usize>, HttpError> {
    match input.iter().position(|&b| b == b'\n') {
        Some(0) => Err(HttpError::Chunk("bare LF")),
        Some(i) if input[i - 1] == b'\r' => Ok(Some(i - 1)),
        Some(_) => Err(HttpError::Chunk("bare LF")),
        None if input.len() > MAX_LINE => Err(HttpError::Chunk("line too long")),
        None => Ok(None),
    }
}

fn trim(bytes: &[u8]) -> &[u8] {
    bytes.trim_ascii()
}

fn lossy_err(value: &[u8], make: fn(String) -> HttpError) -> HttpError {
    make(String::from_utf8_lossy(value).into_owned())
}

#[cfg(test)]
mod tests;
