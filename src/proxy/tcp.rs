//! A `tcp` proxy connection: two pumps (client->server is `upstream`,
//! server->client is `downstream`) in one task.
//!
//! Each pump runs a fast path while no fault applies to its direction: one
//! reusable buffer (allocated on the first byte, so idle connections cost no
//! buffer), read, write, and a `watch` on the proxy's faults checked per
//! chunk and awaited while idle. When a fault applies it switches to the
//! fault path: chunks go through the [`Lane`] into a queue of timed pieces
//! while reading goes on (so latency does not add up per chunk), and it
//! returns to the fast path once the faults are gone and the queue is empty.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{ReadHalf, WriteHalf};
use tokio::sync::watch;

use super::lane::{ConnInfo, Lane, Piece, Then};
use super::metrics::Stats;
use super::model::{Direction, Fault};
use super::server::Shared;

/// The first buffer of a direction: small, so 10k idle connections that
/// once passed a few bytes cost little.
const BUF_START: usize = 4 * 1024;
/// The buffer grows (x4) up to this while reads fill it: bulk transfers.
const BUF_MAX: usize = 64 * 1024;
/// Bytes the fault path may hold in its queue before it stops reading.
const MAX_QUEUED: usize = 1 << 20;

/// How a pump (or the connection) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// The source closed; the close was passed on.
    Eof,
    /// Close the whole connection (a fault, or an I/O error).
    Close,
    /// Reset the side this direction writes to.
    Reset(Direction),
}

/// What the fast or fault path hands back to the pump loop.
enum Step {
    /// Re-check the faults and pick a path.
    Again,
    End(End),
}

type Faults = watch::Receiver<Arc<Vec<Fault>>>;

/// Serves one client connection until both directions are done.
pub(super) async fn serve(mut client: TcpStream, conn: ConnInfo, shared: &Shared) {
    let mut server = match shared.upstream.connect().await {
        Ok(server) => server,
        Err(e) => {
            shared.stats.upstream_errors.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(proxy = %shared.name, error = %e, "upstream unavailable");
            return;
        }
    };
    let end = {
        let (client_read, client_write) = client.split();
        let (server_read, server_write) = server.split();
        let up = Pump::new(Direction::Upstream, client_read, server_write, conn, shared).run();
        let down = Pump::new(
            Direction::Downstream,
            server_read,
            client_write,
            conn,
            shared,
        )
        .run();
        both(up, down).await
    };
    let reset = match end {
        End::Reset(Direction::Downstream) => client.set_zero_linger(),
        End::Reset(Direction::Upstream) => server.set_zero_linger(),
        End::Eof | End::Close => Ok(()),
    };
    if let Err(e) = reset {
        tracing::debug!(error = %e, "setting SO_LINGER for a reset");
    }
}

/// Runs both pumps; a half close leaves the other running, anything else
/// ends both.
async fn both(up: impl Future<Output = End>, down: impl Future<Output = End>) -> End {
    tokio::pin!(up, down);
    let (mut up_done, mut down_done) = (false, false);
    loop {
        let end = tokio::select! {
            end = &mut up, if !up_done => { up_done = true; end }
            end = &mut down, if !down_done => { down_done = true; end }
        };
        if end != End::Eof || (up_done && down_done) {
            return end;
        }
    }
}

struct Pump<'a> {
    dir: Direction,
    src: ReadHalf<'a>,
    dst: WriteHalf<'a>,
    lane: Lane,
    conn: ConnInfo,
    faults: Faults,
    stats: &'a Stats,
    bytes: &'a AtomicU64,
}

impl<'a> Pump<'a> {
    fn new(
        dir: Direction,
        src: ReadHalf<'a>,
        dst: WriteHalf<'a>,
        conn: ConnInfo,
        shared: &'a Shared,
    ) -> Self {
        let bytes = match dir {
            Direction::Upstream => &shared.stats.bytes_upstream,
            Direction::Downstream => &shared.stats.bytes_downstream,
        };
        let mut faults = shared.faults.subscribe();
        let mut lane = Lane::new(dir, &conn);
        sync(&mut lane, &mut faults, &conn, &shared.stats);
        Self {
            dir,
            src,
            dst,
            lane,
            conn,
            faults,
            stats: &shared.stats,
            bytes,
        }
    }

    async fn run(mut self) -> End {
        let mut buf = Vec::new();
        loop {
            if self.faults.has_changed().unwrap_or(false) {
                sync(&mut self.lane, &mut self.faults, &self.conn, self.stats);
            }
            let step = if self.lane.is_clear() {
                self.fast(&mut buf).await
            } else {
                self.faulty(&mut buf).await
            };
            match step {
                Step::End(end) => return end,
                // `changed()` marked the new faults seen: take them now.
                Step::Again => sync(&mut self.lane, &mut self.faults, &self.conn, self.stats),
            }
        }
    }

    /// Pass-through until the source ends or the faults change.
    async fn fast(&mut self, buf: &mut Vec<u8>) -> Step {
        let Self {
            src,
            dst,
            faults,
            bytes,
            ..
        } = self;
        loop {
            if buf.is_empty() {
                tokio::select! {
                    biased;
                    ready = src.readable() => {
                        if ready.is_err() {
                            return Step::End(End::Close);
                        }
                        buf.resize(BUF_START, 0);
                    }
                    changed = faults.changed() => return changed_step(changed.is_ok()),
                }
            }
            tokio::select! {
                biased;
                read = src.read(buf) => match read {
                    Ok(0) => {
                        let _ = dst.shutdown().await;
                        return Step::End(End::Eof);
                    }
                    Ok(n) => {
                        if dst.write_all(&buf[..n]).await.is_err() {
                            return Step::End(End::Close);
                        }
                        bytes.fetch_add(n as u64, Ordering::Relaxed);
                        grow(buf, n);
                    }
                    Err(_) => return Step::End(End::Close),
                },
                changed = faults.changed() => return changed_step(changed.is_ok()),
            }
        }
    }

    /// Chunks through the lane into timed pieces, until the lane is clear
    /// and everything queued has been written.
    async fn faulty(&mut self, buf: &mut Vec<u8>) -> Step {
        let mut queue: VecDeque<Piece> = VecDeque::new();
        let mut queued = 0usize;
        let mut eof = false;
        if buf.is_empty() {
            buf.resize(BUF_START, 0);
        }
        loop {
            if self.faults.has_changed().unwrap_or(false) {
                sync(&mut self.lane, &mut self.faults, &self.conn, self.stats);
            }
            if self.lane.is_clear() && queue.is_empty() && !eof {
                return Step::Again;
            }
            let now = Instant::now();
            while queue.front().is_some_and(|p| p.at <= now) {
                let Some(piece) = queue.pop_front() else {
                    break;
                };
                queued -= piece.data.len();
                if self.dst.write_all(&piece.data).await.is_err() {
                    return Step::End(End::Close);
                }
                self.bytes
                    .fetch_add(piece.data.len() as u64, Ordering::Relaxed);
                if let Some(then) = piece.then {
                    return Step::End(self.end_for(then));
                }
            }
            let deadline = self.lane.deadline();
            if let Some((at, then)) = deadline.filter(|(at, _)| *at <= now) {
                tracing::trace!(?at, "fault deadline");
                return Step::End(self.end_for(then));
            }
            if eof && queue.is_empty() {
                tokio::time::sleep(self.lane.close_delay()).await;
                let _ = self.dst.shutdown().await;
                return Step::End(End::Eof);
            }
            let wake = [queue.front().map(|p| p.at), deadline.map(|d| d.0)]
                .into_iter()
                .flatten()
                .min();
            let Self {
                src,
                faults,
                lane,
                conn,
                stats,
                ..
            } = self;
            let far = now + Duration::from_secs(24 * 3600);
            tokio::select! {
                biased;
                () = tokio::time::sleep_until(wake.unwrap_or(far).into()), if wake.is_some() => {}
                changed = faults.changed() => {
                    if changed.is_err() {
                        return Step::End(End::Close);
                    }
                    sync(lane, faults, conn, stats);
                }
                read = src.read(buf), if !eof && queued < MAX_QUEUED => match read {
                    Ok(0) => eof = true,
                    Ok(n) => {
                        for piece in lane.on_chunk(Bytes::copy_from_slice(&buf[..n]), Instant::now()) {
                            queued += piece.data.len();
                            queue.push_back(piece);
                        }
                        grow(buf, n);
                    }
                    Err(_) => return Step::End(End::Close),
                },
            }
        }
    }

    fn end_for(&self, then: Then) -> End {
        match then {
            Then::Close => End::Close,
            Then::Reset => End::Reset(self.dir),
        }
    }
}

/// Grows a buffer that a read filled, up to [`BUF_MAX`].
fn grow(buf: &mut Vec<u8>, read: usize) {
    if read == buf.len() && buf.len() < BUF_MAX {
        buf.resize((buf.len() * 4).min(BUF_MAX), 0);
    }
}

fn changed_step(sender_alive: bool) -> Step {
    if sender_alive {
        Step::Again
    } else {
        Step::End(End::Close)
    }
}

/// Takes the latest faults into the lane and counts the new hits.
fn sync(lane: &mut Lane, faults: &mut Faults, conn: &ConnInfo, stats: &Stats) {
    let current = Arc::clone(&faults.borrow_and_update());
    for kind in lane.sync(&current, conn, Instant::now()) {
        stats.hit(kind);
    }
}
