//! Accepting and keeping HTTP connections, with a deadline for every way a client can hold one
//! without using it: its first byte, its request headers, its request body, and the idle time
//! between requests (HTTP/1 keep-alive, or an HTTP/2 connection with no stream open). HTTP/2 peers
//! are pinged and may open a bounded number of streams at once. The number of open connections is
//! bounded: at the bound, a new connection takes the place of the one idle longest (never of one
//! with a request under way), so a flood of silent connections churns itself while `/healthz` and
//! real clients keep being answered.

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use axum::Router;
use http_body::{Body as HttpBody, Frame, SizeHint};
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// The deadlines and bounds of client connections (defined with the settings, which read them).
pub use crate::config::HttpLimits as Limits;

/// Files kept free beside the connections (the database, the delivery client, logs).
const RESERVE: usize = 256;
/// Streams an HTTP/2 client may have open at once on one connection.
const MAX_STREAMS: u32 = 128;
/// How often an HTTP/2 peer is pinged, and how long it has to answer.
const H2_PING: Duration = Duration::from_secs(20);

/// Accepts connections until `stop`, serving each with HTTP/1.1 or HTTP/2 under [`Limits`]; then
/// lets the requests in progress finish.
pub async fn serve(listener: TcpListener, app: Router, limits: Limits, stop: CancellationToken) {
    use tower::Service;
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let idle = Arc::new(IdleConnections::default());
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut make = app.into_make_service_with_connect_info::<SocketAddr>();
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment rather than spin.
                    tracing::warn!("accepting a connection failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stop.cancelled() => break,
        };
        // At the bound, the connection idle longest makes room (it closes at once); with none idle
        // (every connection has a request under way) the new one is closed.
        let permit = match open.clone().try_acquire_owned() {
            Ok(permit) => Some(permit),
            Err(_) if idle.evict_oldest() => None,
            Err(_) => continue,
        };
        let _ = stream.set_nodelay(true);
        let service = match make.call(remote).await {
            Ok(service) => service,
            Err(never) => match never {},
        };
        let watch = graceful.watcher();
        let idle = idle.clone();
        tokio::spawn(async move {
            serve_one(stream, service, limits, idle, watch).await;
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Serves one connection until it ends, is idle past its deadline, or the server stops.
async fn serve_one(
    stream: TcpStream,
    service: axum::middleware::AddExtension<Router, axum::extract::ConnectInfo<SocketAddr>>,
    limits: Limits,
    idle: Arc<IdleConnections>,
    watch: hyper_util::server::graceful::Watcher,
) {
    let activity = Arc::new(Activity::new(idle));
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::server::conn::auto::Builder;
    // A connection that sends nothing is closed before HTTP is even worked out.
    let mut first = [0u8; 1];
    tokio::select! {
        peeked = tokio::time::timeout(limits.header, stream.peek(&mut first)) => match peeked {
            Ok(Ok(n)) if n > 0 => {}
            _ => return,
        },
        _ = activity.evicted.cancelled() => return,
    }
    let mut builder = Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.header).keep_alive(!limits.idle.is_zero());
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(H2_PING)
        .keep_alive_timeout(H2_PING)
        .max_concurrent_streams(MAX_STREAMS);
    let service = {
        let activity = activity.clone();
        let body_deadline = limits.body;
        tower::service_fn(move |req: Request<hyper::body::Incoming>| {
            let guard = Busy::enter(&activity);
            let deadline = tokio::time::Instant::now() + body_deadline;
            let req =
                req.map(|body| Body::new(Deadline { inner: body, at: Box::pin(tokio::time::sleep_until(deadline)) }));
            let mut router = service.clone();
            async move {
                let response: Response =
                    tower::Service::call(&mut router, req).await.unwrap_or_else(|never: Infallible| match never {});
                // Busy until the answer is sent in full (a stream, a long export).
                Ok::<_, Infallible>(response.map(|body| Body::new(Guarded { inner: body, _guard: guard })))
            }
        })
    };
    let connection = builder
        .serve_connection_with_upgrades(TokioIo::new(stream), hyper_util::service::TowerToHyperService::new(service))
        .into_owned();
    let connection = watch.watch(connection);
    tokio::pin!(connection);
    let idle = limits.idle.max(Duration::from_millis(1));
    loop {
        let wait = activity.idle_for().map_or(idle, |quiet| idle.saturating_sub(quiet));
        tokio::select! {
            _ = &mut connection => return,
            // Idle longest while the server was full: closed to make room.
            _ = activity.evicted.cancelled() => return,
            _ = tokio::time::sleep(wait) => {
                if activity.idle_for().is_some_and(|quiet| quiet >= idle) {
                    // Idle past its deadline: closed.
                    return;
                }
            }
        }
    }
}

/// The connections with no request under way, oldest idle first: at the bound, the first makes
/// room for a new one.
#[derive(Default)]
struct IdleConnections {
    next: AtomicU64,
    idle: Mutex<BTreeMap<u64, CancellationToken>>,
}

impl IdleConnections {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, CancellationToken>> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts a connection idle from now; returns its place.
    fn enter(&self, evict: &CancellationToken) -> u64 {
        let key = self.next.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(key, evict.clone());
        key
    }

    fn leave(&self, key: u64) {
        self.lock().remove(&key);
    }

    /// Closes the connection idle longest, if any.
    fn evict_oldest(&self) -> bool {
        match self.lock().pop_first() {
            Some((_, evict)) => {
                evict.cancel();
                true
            }
            None => false,
        }
    }
}

/// What a connection is doing: how many requests are under way, and since when none is.
struct Activity {
    busy: AtomicUsize,
    quiet_since: Mutex<Option<Instant>>,
    idle: Arc<IdleConnections>,
    /// Its place among the idle connections, while it is one.
    place: Mutex<Option<u64>>,
    /// Cancelled to close it to make room.
    evicted: CancellationToken,
}

impl Activity {
    fn new(idle: Arc<IdleConnections>) -> Self {
        let evicted = CancellationToken::new();
        let place = Some(idle.enter(&evicted));
        Activity {
            busy: AtomicUsize::new(0),
            quiet_since: Mutex::new(Some(Instant::now())),
            idle,
            place: Mutex::new(place),
            evicted,
        }
    }

    /// How long no request has been under way (`None` while one is).
    fn idle_for(&self) -> Option<Duration> {
        if self.busy.load(Ordering::Acquire) > 0 {
            return None;
        }
        self.quiet_since.lock().unwrap_or_else(|p| p.into_inner()).map(|since| since.elapsed())
    }
}

/// A request under way on its connection, from its head until its answer is sent.
struct Busy(Arc<Activity>);

impl Busy {
    fn enter(activity: &Arc<Activity>) -> Self {
        let mut since = activity.quiet_since.lock().unwrap_or_else(|p| p.into_inner());
        activity.busy.fetch_add(1, Ordering::AcqRel);
        *since = None;
        if let Some(place) = activity.place.lock().unwrap_or_else(|p| p.into_inner()).take() {
            activity.idle.leave(place);
        }
        Busy(activity.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let activity = &self.0;
        let mut since = activity.quiet_since.lock().unwrap_or_else(|p| p.into_inner());
        if activity.busy.fetch_sub(1, Ordering::AcqRel) == 1 {
            *since = Some(Instant::now());
            *activity.place.lock().unwrap_or_else(|p| p.into_inner()) = Some(activity.idle.enter(&activity.evicted));
        }
    }
}

impl Drop for Activity {
    fn drop(&mut self) {
        if let Some(place) = self.place.lock().unwrap_or_else(|p| p.into_inner()).take() {
            self.idle.leave(place);
        }
    }
}

/// A request body that must arrive whole before its deadline (a client trickling a body cannot
/// hold a handler and its connection).
struct Deadline<B> {
    inner: B,
    at: Pin<Box<tokio::time::Sleep>>,
}

impl<B> HttpBody for Deadline<B>
where
    B: HttpBody<Data = bytes::Bytes> + Unpin,
    B::Error: Into<axum::BoxError>,
{
    type Data = bytes::Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        match self.at.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err("the request body did not arrive in time".into()))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// An answer's body that keeps its connection counted busy until it is sent.
struct Guarded {
    inner: Body,
    _guard: Busy,
}

impl HttpBody for Guarded {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Raises this process's open-file limit to its hard limit (each connection is a file), and says
/// how many connections fit: `wanted`, or fewer when even the raised limit is lower (leaving room
/// for the database, the delivery client and the reserve).
pub fn connections_that_fit(wanted: usize) -> usize {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit read and write the plain struct given; no other memory is touched.
    let files = unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return wanted;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit.rlim_cur = limit.rlim_max;
            }
        }
        limit.rlim_cur
    };
    let room = (files as usize).saturating_sub(RESERVE).max(16);
    if room < wanted {
        tracing::warn!(
            "the open-file limit ({files}) allows {room} connections, fewer than WEBHOOK_MAX_CONNECTIONS ({wanted})"
        );
    }
    room.min(wanted)
}
