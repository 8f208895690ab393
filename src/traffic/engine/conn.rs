//! One keep-alive connection of the pool: connects lazily, writes a
//! pre-encoded request, reads the answer into a reused buffer, and is
//! closed (then replaced on the next request) when it errors, times out or
//! the server says `Connection: close`.
//!
//! A request on a reused connection that the server had already closed
//! (reset or EOF before any byte of the answer) is retried once on a fresh
//! connection, as browsers do. Timeouts are [`Watchdog`]'s.

use std::cell::Cell;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

use crate::traffic::http1::{MAX_HEAD, Parsed, ResponseParser};
use crate::traffic::stats::{Failure, Outcome};

const BUFFER: usize = 16 * 1024;

/// One connection and its read buffer.
pub(super) struct Conn {
    addr: SocketAddr,
    stream: Option<TcpStream>,
    buf: Vec<u8>,
    /// Unparsed bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    /// When the last read returned: the answer's arrival, timed before it
    /// is parsed.
    answered: Instant,
}

/// How a round trip on an open connection failed.
enum Broken {
    /// Nothing came back on a reused connection: the server had closed it.
    Stale,
    Io,
}

impl Conn {
    pub(super) fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            stream: None,
            buf: vec![0; BUFFER],
            start: 0,
            end: 0,
            answered: Instant::now(),
        }
    }

    /// When a completed exchange's answer arrived (now for a failure).
    pub(super) fn done_at(&self, result: Option<&Result<u16, Failure>>) -> std::time::Instant {
        match result {
            Some(Ok(_)) => self.answered.into_std(),
            _ => std::time::Instant::now(),
        }
    }

    /// Sends `request` and reads its answer; the status, or why not.
    /// `connects` counts connections opened.
    pub(super) async fn exchange(
        &mut self,
        request: &[u8],
        head: bool,
        connects: &Cell<u64>,
    ) -> Result<u16, Failure> {
        let mut retried = false;
        loop {
            let reused = self.stream.is_some();
            if !reused {
                let stream = TcpStream::connect(self.addr)
                    .await
                    .map_err(|_| Failure::Connect)?;
                let _ = stream.set_nodelay(true);
                self.stream = Some(stream);
                self.start = 0;
                self.end = 0;
                connects.set(connects.get() + 1);
            }
            match self.round_trip(request, head).await {
                Ok((status, keep_alive)) => {
                    if !keep_alive {
                        self.close();
                    }
                    return Ok(status);
                }
                Err(Broken::Stale) if reused && !retried => {
                    self.close();
                    retried = true;
                }
                Err(_) => {
                    self.close();
                    return Err(Failure::Io);
                }
            }
        }
    }

    /// The outcome of an exchange the watchdog may have cut short (`None`):
    /// a timeout while connecting is a connect failure.
    pub(super) fn outcome(&mut self, result: Option<Result<u16, Failure>>) -> Outcome {
        match result {
            Some(Ok(status)) => Outcome::Status(status),
            Some(Err(failure)) => Outcome::Failed(failure),
            None => {
                let failure = if self.stream.is_some() {
                    Failure::Timeout
                } else {
                    Failure::Connect
                };
                self.close();
                Outcome::Failed(failure)
            }
        }
    }

    pub(super) fn close(&mut self) {
        self.stream = None;
        self.start = 0;
        self.end = 0;
    }

    async fn round_trip(&mut self, request: &[u8], head: bool) -> Result<(u16, bool), Broken> {
        let Self {
            stream,
            buf,
            start,
            end,
            answered,
            ..
        } = self;
        let Some(stream) = stream.as_mut() else {
            return Err(Broken::Io);
        };
        stream.write_all(request).await.map_err(|_| Broken::Stale)?;
        let mut parser = ResponseParser::new(head);
        let mut received = false;
        loop {
            if *end > *start {
                let (used, parsed) = parser.parse(&buf[*start..*end]).map_err(|_| Broken::Io)?;
                *start += used;
                if let Parsed::Complete(response) = parsed {
                    if *start == *end {
                        *start = 0;
                        *end = 0;
                    }
                    return Ok((response.status, response.keep_alive));
                }
            }
            make_room(buf, start, end)?;
            let n = match stream.read(&mut buf[*end..]).await {
                Ok(n) => {
                    *answered = Instant::now();
                    n
                }
                Err(_) if !received => return Err(Broken::Stale),
                Err(_) => return Err(Broken::Io),
            };
            if n == 0 {
                if !received {
                    return Err(Broken::Stale);
                }
                let response = parser.eof().map_err(|_| Broken::Io)?;
                return Ok((response.status, false));
            }
            received = true;
            *end += n;
        }
    }
}

/// Frees space after `end`: drops consumed bytes, moves a partial head to
/// the front, or grows the buffer for a large head (up to the parser's
/// limit, which then refuses it).
fn make_room(buf: &mut Vec<u8>, start: &mut usize, end: &mut usize) -> Result<(), Broken> {
    if *start == *end {
        *start = 0;
        *end = 0;
    } else if *end == buf.len() {
        if *start > 0 {
            buf.copy_within(*start..*end, 0);
            *end -= *start;
            *start = 0;
        } else if buf.len() <= MAX_HEAD {
            buf.resize(buf.len() * 2, 0);
        } else {
            return Err(Broken::Io);
        }
    }
    Ok(())
}

/// A per-connection timeout that costs (almost) nothing per request: one
/// timer entry, re-armed only when it fires before the current request's
/// deadline — at most once per timeout period, instead of registering and
/// cancelling a timer for every request.
pub(super) struct Watchdog {
    sleep: Pin<Box<Sleep>>,
    timeout: Duration,
}

impl Watchdog {
    pub(super) fn new(timeout: Duration) -> Self {
        Self {
            sleep: Box::pin(tokio::time::sleep(timeout)),
            timeout,
        }
    }

    /// Runs `work` until it finishes (`Some`) or `timeout` has passed since
    /// `started` (`None`).
    pub(super) async fn run<F: Future>(
        &mut self,
        started: std::time::Instant,
        work: F,
    ) -> Option<F::Output> {
        let deadline = Instant::from_std(started + self.timeout);
        let sleep = &mut self.sleep;
        let expiry = async {
            loop {
                sleep.as_mut().await;
                if Instant::now() >= deadline {
                    return;
                }
                sleep.as_mut().reset(deadline);
            }
        };
        tokio::select! {
            biased;
            out = work => Some(out),
            () = expiry => None,
        }
    }
}
