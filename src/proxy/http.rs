//! An `http` proxy connection: HTTP/1.1 requests one at a time (pipelined
//! ones wait their turn), keep-alive on both sides, heads and bodies passed
//! on as the bytes that came; only heads are parsed ([`head`]).
//!
//! Per request: the head must complete within the header timeout from its
//! first byte and fit the head cap (else 408, 431 or 400 and close); the
//! HTTP faults decide ([`decide`]) to delay, answer with a status, or abort;
//! byte-level faults act on the forwarded bytes through the two [`Lane`]s,
//! each message's chunks counted from the time the message started, so
//! latency delays each request or response once. Each request goes to the
//! next upstream address (round robin, as a client that resolves a service
//! name spreads its calls over the replicas): the connection to that address
//! is reused while it stays open, the others wait parked (one per address),
//! and one the server closed while idle is replaced; a `101` switches to a
//! plain tunnel.
//!
//! Not here: `timeout` / `reset-peer` on an idle keep-alive connection act
//! when its next request comes (tcp proxies act at once).

pub mod head;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use self::head::{
    Body, ChunkedScanner, HeadError, RequestHead, ResponseHead, parse_request, parse_response,
};
use super::lane::{ConnInfo, Lane, Then, hits, source_matches};
use super::model::{Direction, Fault, FaultKind, Params};
use super::server::Shared;

/// Room made before a read: small while reading heads (10k idle
/// keep-alive connections cost little), larger while a body streams.
const HEAD_READ: usize = 4 * 1024;
const BODY_READ: usize = 32 * 1024;
/// How long a closing connection drains what the client still sends, so
/// the last response is not lost to a reset.
const LINGER: Duration = Duration::from_millis(500);

/// What the HTTP faults make of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub delay: Duration,
    pub action: Action,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Forward,
    /// Answer with this status instead of forwarding.
    Status(u16),
    /// Close the client connection without a response.
    Abort,
}

/// The HTTP faults' verdict on the `n`th request of a proxy from `client`:
/// delays add up; the first status or abort hit (by fault id) wins. Also
/// returns the kinds that hit.
pub fn decide(
    faults: &[Fault],
    client: Option<Ipv4Addr>,
    seed: u64,
    n: u64,
) -> (Decision, Vec<FaultKind>) {
    let mut decision = Decision {
        delay: Duration::ZERO,
        action: Action::Forward,
    };
    let mut hit = Vec::new();
    for f in faults {
        let spec = &f.spec;
        if !spec.kind().is_http()
            || !source_matches(&spec.sources, client)
            || !hits(spec.toxicity, seed, f.id, n)
        {
            continue;
        }
        match spec.params {
            Params::HttpDelay { delay } => decision.delay += delay,
            Params::HttpStatus { status } if decision.action == Action::Forward => {
                decision.action = Action::Status(status);
            }
            Params::HttpAbort if decision.action == Action::Forward => {
                decision.action = Action::Abort;
            }
            _ => continue,
        }
        hit.push(spec.kind());
    }
    (decision, hit)
}

/// How much of a buffer to pass on in one write with a head of `len`
/// bytes: the whole message when its fixed-length body is buffered too.
/// Returns that length and the body still to pass on.
pub fn with_buffered_body(len: usize, body: Body, buffered: usize) -> (usize, Body) {
    match body {
        Body::Length(n) => match usize::try_from(n).ok().and_then(|n| n.checked_add(len)) {
            Some(whole) if whole <= buffered => (whole, Body::None),
            _ => (len, body),
        },
        _ => (len, body),
    }
}

/// How the client connection ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Close,
    Abort,
    Reset(Direction),
}

/// Serves one client connection.
pub(super) async fn serve(client: TcpStream, conn: ConnInfo, shared: &Shared) {
    let mut faults = shared.faults.subscribe();
    let snapshot = Arc::clone(&faults.borrow_and_update());
    let mut c = Conn {
        shared,
        info: conn,
        client,
        cbuf: BytesMut::new(),
        upstream: None,
        parked: Vec::new(),
        ubuf: BytesMut::new(),
        up: Lane::new(Direction::Upstream, &conn),
        down: Lane::new(Direction::Downstream, &conn),
        faults,
        snapshot: Arc::new(Vec::new()),
        has_http: false,
        stop: shared.stop.child_token(),
    };
    c.take(snapshot);
    let end = c.run().await;
    c.finish(end).await;
}

struct Conn<'a> {
    shared: &'a Shared,
    info: ConnInfo,
    client: TcpStream,
    cbuf: BytesMut,
    /// The upstream connection in use, and its address.
    upstream: Option<(SocketAddr, TcpStream)>,
    /// Idle connections to the other upstream addresses (never the one in
    /// use: a connection is taken out of here, or opened afresh).
    parked: Vec<(SocketAddr, TcpStream)>,
    ubuf: BytesMut,
    up: Lane,
    down: Lane,
    faults: watch::Receiver<Arc<Vec<Fault>>>,
    snapshot: Arc<Vec<Fault>>,
    has_http: bool,
    /// A child of the proxy's stop token: idle waits do not contend on it.
    stop: CancellationToken,
}

async fn read_some(
    stream: &mut TcpStream,
    buf: &mut BytesMut,
    room: usize,
) -> std::io::Result<usize> {
    buf.reserve(room);
    stream.read_buf(buf).await
}

impl Conn<'_> {
    fn take(&mut self, snapshot: Arc<Vec<Fault>>) {
        let now = Instant::now();
        let mut started = self.up.sync(&snapshot, &self.info, now);
        started.extend(self.down.sync(&snapshot, &self.info, now));
        for kind in started {
            self.shared.stats.hit(kind);
        }
        self.has_http = snapshot.iter().any(|f| f.spec.kind().is_http());
        self.snapshot = snapshot;
    }

    fn sync(&mut self) {
        if self.faults.has_changed().unwrap_or(false) {
            let snapshot = Arc::clone(&self.faults.borrow_and_update());
            self.take(snapshot);
        }
    }

    async fn run(&mut self) -> End {
        loop {
            if self.cbuf.is_empty() {
                tokio::select! {
                    biased;
                    ready = self.client.readable() => if ready.is_err() { return End::Close },
                    () = self.stop.cancelled() => return End::Close,
                }
                match read_some(&mut self.client, &mut self.cbuf, HEAD_READ).await {
                    Ok(0) | Err(_) => return End::Close,
                    Ok(_) => {}
                }
            }
            let started = Instant::now();
            let head = match self.request_head(started).await {
                Ok(Some(head)) => head,
                Ok(None) => return End::Close,
                Err((status, reason)) => {
                    self.shared
                        .stats
                        .bad_requests
                        .fetch_add(1, Ordering::Relaxed);
                    let _ = self.reply(status, &reason, true).await;
                    return End::Close;
                }
            };
            self.sync();
            let decision = if self.has_http {
                let n = self.shared.req_seq.fetch_add(1, Ordering::Relaxed);
                let (decision, hit) = decide(&self.snapshot, self.info.client, self.info.seed, n);
                for kind in hit {
                    self.shared.stats.hit(kind);
                }
                decision
            } else {
                Decision {
                    delay: Duration::ZERO,
                    action: Action::Forward,
                }
            };
            if !decision.delay.is_zero() {
                tokio::time::sleep(decision.delay).await;
            }
            let keep_alive = match decision.action {
                Action::Abort => return End::Abort,
                Action::Status(status) => {
                    self.cbuf.advance(head.len);
                    if let Err(end) = self
                        .body(Direction::Upstream, head.body, started, true)
                        .await
                    {
                        return end;
                    }
                    let sent = self
                        .reply(status, "injected by the understudy fault proxy", head.close)
                        .await;
                    sent.map(|()| !head.close)
                }
                Action::Forward => self.forward(&head, started).await,
            };
            match keep_alive {
                Ok(true) => {}
                Ok(false) => return End::Close,
                Err(end) => return end,
            }
        }
    }

    /// Reads until a whole request head is buffered. `None` when the client
    /// went away; `Err((status, reason))` for a head to refuse.
    async fn request_head(
        &mut self,
        started: Instant,
    ) -> Result<Option<RequestHead>, (u16, String)> {
        let deadline = started + self.shared.header_timeout;
        loop {
            match parse_request(&self.cbuf, self.shared.max_head) {
                Ok(Some(head)) => return Ok(Some(head)),
                Ok(None) => {}
                Err(e @ HeadError::TooLarge(_)) => return Err((431, e.to_string())),
                Err(e) => return Err((400, e.to_string())),
            }
            let read = read_some(&mut self.client, &mut self.cbuf, HEAD_READ);
            match tokio::time::timeout_at(deadline.into(), read).await {
                Err(_) => return Err((408, "the request head did not arrive in time".to_owned())),
                Ok(Ok(0) | Err(_)) => return Ok(None),
                Ok(Ok(_)) => {}
            }
        }
    }

    /// Forwards one request and its response. `Ok(keep_alive)`.
    async fn forward(&mut self, head: &RequestHead, started: Instant) -> Result<bool, End> {
        if !self.upstream_ready().await {
            self.shared
                .stats
                .upstream_errors
                .fetch_add(1, Ordering::Relaxed);
            let _ = self.reply(502, "the upstream is unavailable", true).await;
            return Err(End::Close);
        }
        if head.expect_continue {
            self.write_client(b"HTTP/1.1 100 Continue\r\n\r\n").await?;
        }
        let (take, body) = with_buffered_body(head.len, head.body, self.cbuf.len());
        let bytes = self.cbuf.split_to(take).freeze();
        self.send(Direction::Upstream, bytes, started).await?;
        self.body(Direction::Upstream, body, started, false).await?;
        loop {
            let Some((response, at)) = self.response_head(head.is_head).await else {
                let _ = self
                    .reply(502, "the upstream sent no valid response", true)
                    .await;
                return Err(End::Close);
            };
            let (take, body) = with_buffered_body(response.len, response.body, self.ubuf.len());
            let bytes = self.ubuf.split_to(take).freeze();
            self.send(Direction::Downstream, bytes, at).await?;
            if response.status == 101 {
                self.shared.stats.status(101);
                self.tunnel().await;
                return Err(End::Close);
            }
            if response.status < 200 {
                continue;
            }
            self.shared.stats.status(response.status);
            self.body(Direction::Downstream, body, at, false).await?;
            return Ok(!(response.close || head.close));
        }
    }

    /// Whether an upstream connection is open, opening one if needed (and
    /// replacing one the server closed while it was idle).
    async fn upstream_ready(&mut self) -> bool {
        let addr = match self.shared.upstream.pick().await {
            Ok(addr) => addr,
            Err(e) => {
                tracing::debug!(proxy = %self.shared.name, error = %e, "upstream unavailable");
                return false;
            }
        };
        if let Some((current, up)) = self.upstream.take() {
            if idle_and_open(&up) && self.ubuf.is_empty() {
                if current == addr {
                    self.upstream = Some((current, up));
                    return true;
                }
                self.parked.push((current, up));
            }
            self.ubuf.clear();
        }
        if let Some(i) = self.parked.iter().position(|(a, _)| *a == addr) {
            let (_, up) = self.parked.swap_remove(i);
            if idle_and_open(&up) {
                self.upstream = Some((addr, up));
                return true;
            }
        }
        match super::upstream::Upstream::connect_to(addr).await {
            Ok(stream) => {
                self.upstream = Some((addr, stream));
                true
            }
            Err(e) => {
                tracing::debug!(proxy = %self.shared.name, error = %e, "upstream unavailable");
                false
            }
        }
    }

    /// Reads a response head; `None` if the upstream closed or sent garbage.
    async fn response_head(&mut self, to_head: bool) -> Option<(ResponseHead, Instant)> {
        let mut started = None;
        loop {
            if !self.ubuf.is_empty() {
                let at = *started.get_or_insert_with(Instant::now);
                match parse_response(&self.ubuf, self.shared.max_head, to_head) {
                    Ok(Some(head)) => return Some((head, at)),
                    Ok(None) => {}
                    Err(e) => {
                        tracing::debug!(proxy = %self.shared.name, error = %e, "bad upstream response");
                        return None;
                    }
                }
            }
            if self.fill(Direction::Downstream, HEAD_READ).await.ok()? == 0 {
                return None;
            }
        }
    }

    fn buf(&mut self, dir: Direction) -> &mut BytesMut {
        match dir {
            Direction::Upstream => &mut self.cbuf,
            Direction::Downstream => &mut self.ubuf,
        }
    }

    /// Reads more from the side that feeds `dir`.
    async fn fill(&mut self, dir: Direction, room: usize) -> std::io::Result<usize> {
        match dir {
            Direction::Upstream => read_some(&mut self.client, &mut self.cbuf, room).await,
            Direction::Downstream => match self.upstream.as_mut() {
                Some((_, up)) => read_some(up, &mut self.ubuf, room).await,
                None => Ok(0),
            },
        }
    }

    /// Passes (or with `discard`, swallows) a message body.
    async fn body(
        &mut self,
        dir: Direction,
        body: Body,
        at: Instant,
        discard: bool,
    ) -> Result<(), End> {
        let mut scanner = ChunkedScanner::default();
        let mut left = match body {
            Body::None => return Ok(()),
            Body::Length(n) => n,
            Body::Chunked | Body::UntilClose => u64::MAX,
        };
        loop {
            if self.buf(dir).is_empty()
                && self.fill(dir, BODY_READ).await.map_err(|_| End::Close)? == 0
            {
                return if body == Body::UntilClose {
                    Ok(())
                } else {
                    Err(End::Close)
                };
            }
            let buf = self.buf(dir);
            let (take, done) = match body {
                Body::Length(_) => {
                    let take = usize::try_from(left).unwrap_or(usize::MAX).min(buf.len());
                    left -= take as u64;
                    (take, left == 0)
                }
                Body::Chunked => scanner.feed(buf).map_err(|_| End::Close)?,
                Body::None | Body::UntilClose => (buf.len(), false),
            };
            let chunk = buf.split_to(take).freeze();
            if !discard {
                self.send(dir, chunk, at).await?;
            }
            if done {
                return Ok(());
            }
        }
    }

    /// Writes bytes in direction `dir` through its lane.
    async fn send(&mut self, dir: Direction, data: Bytes, arrival: Instant) -> Result<(), End> {
        let stats = &self.shared.stats;
        let (lane, dst, counter) = match dir {
            Direction::Upstream => (
                &mut self.up,
                &mut self.upstream.as_mut().ok_or(End::Close)?.1,
                &stats.bytes_upstream,
            ),
            Direction::Downstream => (&mut self.down, &mut self.client, &stats.bytes_downstream),
        };
        let end_for = |then| match then {
            Then::Close => End::Close,
            Then::Reset => End::Reset(dir),
        };
        if lane.is_clear() {
            dst.write_all(&data).await.map_err(|_| End::Close)?;
            counter.fetch_add(data.len() as u64, Ordering::Relaxed);
            return Ok(());
        }
        for piece in lane.on_chunk(data, arrival) {
            tokio::time::sleep_until(piece.at.into()).await;
            dst.write_all(&piece.data).await.map_err(|_| End::Close)?;
            counter.fetch_add(piece.data.len() as u64, Ordering::Relaxed);
            if let Some(then) = piece.then {
                return Err(end_for(then));
            }
        }
        if lane.holds() {
            let (at, then) = lane.deadline().unwrap_or((
                Instant::now() + Duration::from_secs(365 * 24 * 3600),
                Then::Close,
            ));
            tokio::select! {
                () = tokio::time::sleep_until(at.into()) => return Err(end_for(then)),
                () = self.stop.cancelled() => return Err(End::Close),
                _ = self.faults.changed() => return Err(End::Close),
            }
        }
        Ok(())
    }

    async fn write_client(&mut self, bytes: &[u8]) -> Result<(), End> {
        self.client.write_all(bytes).await.map_err(|_| End::Close)?;
        self.shared
            .stats
            .bytes_downstream
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        Ok(())
    }

    /// Answers the client from the proxy itself.
    async fn reply(&mut self, status: u16, text: &str, close: bool) -> Result<(), End> {
        let reason = hyper::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Unknown");
        let body = format!("{status} {reason}: {text}\n");
        let connection = if close { "connection: close\r\n" } else { "" };
        let message = format!(
            "HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain; charset=utf-8\r\n\
             content-length: {}\r\n{connection}\r\n{body}",
            body.len()
        );
        self.shared.stats.status(status);
        self.write_client(message.as_bytes()).await
    }

    /// After a `101`: raw bytes both ways until either side closes.
    async fn tunnel(&mut self) {
        let Some((_, up)) = self.upstream.as_mut() else {
            return;
        };
        if self.client.write_all(&self.ubuf).await.is_err()
            || up.write_all(&self.cbuf).await.is_err()
        {
            return;
        }
        self.ubuf.clear();
        self.cbuf.clear();
        if let Ok((to_up, to_client)) = tokio::io::copy_bidirectional(&mut self.client, up).await {
            let stats = &self.shared.stats;
            stats.bytes_upstream.fetch_add(to_up, Ordering::Relaxed);
            stats
                .bytes_downstream
                .fetch_add(to_client, Ordering::Relaxed);
        }
    }

    async fn finish(mut self, end: End) {
        match end {
            End::Abort => {}
            End::Reset(Direction::Downstream) => {
                let _ = self.client.set_zero_linger();
            }
            End::Reset(Direction::Upstream) => {
                if let Some((_, up)) = &self.upstream {
                    let _ = up.set_zero_linger();
                }
            }
            End::Close => {
                let delay = self.down.close_delay();
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                drop(self.upstream.take());
                let _ = self.client.shutdown().await;
                let mut sink = [0u8; 4096];
                let _ = tokio::time::timeout(LINGER, async {
                    let mut drained = 0;
                    while drained < 64 * 1024 {
                        match self.client.read(&mut sink).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => drained += n,
                        }
                    }
                })
                .await;
            }
        }
    }
}

/// Whether an idle upstream connection is still open and has sent nothing
/// unasked.
fn idle_and_open(up: &TcpStream) -> bool {
    let mut probe = [0u8; 1];
    matches!(up.try_read(&mut probe), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::model::FaultSpec;

    fn fault(id: u64, kind: FaultKind, pairs: &[(&str, &str)]) -> Fault {
        Fault {
            id,
            spec: FaultSpec::from_params(kind, pairs).unwrap(),
        }
    }

    #[test]
    fn whole_messages_go_in_one_write() {
        assert_eq!(
            with_buffered_body(10, Body::Length(5), 15),
            (15, Body::None)
        );
        assert_eq!(
            with_buffered_body(10, Body::Length(5), 14),
            (10, Body::Length(5))
        );
        assert_eq!(
            with_buffered_body(10, Body::Chunked, 100),
            (10, Body::Chunked)
        );
        assert_eq!(with_buffered_body(10, Body::None, 100), (10, Body::None));
        assert_eq!(
            with_buffered_body(10, Body::Length(u64::MAX), 100),
            (10, Body::Length(u64::MAX))
        );
    }

    #[test]
    fn decisions_combine_delay_and_the_first_verdict() {
        let client = Some(Ipv4Addr::new(10, 0, 0, 1));
        let faults = [
            fault(1, FaultKind::HttpDelay, &[("delay", "100ms")]),
            fault(2, FaultKind::HttpStatus, &[("status", "503")]),
            fault(3, FaultKind::HttpAbort, &[]),
            fault(4, FaultKind::Latency, &[("latency", "1s")]),
        ];
        let (d, hit) = decide(&faults, client, 1, 0);
        assert_eq!(d.delay, Duration::from_millis(100));
        assert_eq!(d.action, Action::Status(503));
        assert_eq!(hit, [FaultKind::HttpDelay, FaultKind::HttpStatus]);
        let elsewhere = [fault(
            5,
            FaultKind::HttpAbort,
            &[("sources", "10.9.0.0/16")],
        )];
        assert_eq!(decide(&elsewhere, client, 1, 0).0.action, Action::Forward);
        let some = [fault(6, FaultKind::HttpStatus, &[("toxicity", "30%")])];
        let share = (0..2000)
            .filter(|n| decide(&some, client, 9, *n).0.action != Action::Forward)
            .count();
        assert!((500..700).contains(&share), "{share}");
    }
}
