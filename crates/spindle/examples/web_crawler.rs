//! A crawler on a `ThreadPoolExecutor`: it fetches pages from a tiny HTTP server that the
//! example starts itself on 127.0.0.1 (some pages fast, one slow, one missing, one that never
//! answers), handles each page as it arrives with `as_completed`, and gives every page its own
//! time limit, so the hanging page fails with a timeout instead of stalling the crawl.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use spindle::futures::{as_completed, Future, ThreadPoolExecutor};
use spindle::threading::{Event, Thread};

/// Each page's time limit (connect, send, and every read).
const PAGE_TIMEOUT: Duration = Duration::from_millis(400);
/// The slow page answers after this long, well inside `PAGE_TIMEOUT`.
const SLOW_PAGE_DELAY: Duration = Duration::from_millis(100);
/// A bound on the whole crawl, so a bug ends the example instead of hanging it.
const CRAWL_TIMEOUT: Duration = Duration::from_secs(10);

/// What a fetch found.
#[derive(Debug, Clone, PartialEq)]
struct Page {
    status: u16,
    body: String,
}

/// The test site: answers on its own threads until `stop`.
struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    /// Lets the handler of `/hang` finish once the crawl is over.
    release_hang: Arc<Event>,
    thread: Thread<()>,
}

impl Server {
    fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let release_hang = Arc::new(Event::new());
        let (s, r) = (Arc::clone(&stop), Arc::clone(&release_hang));
        let thread = Thread::builder().name("http-server").spawn(move || {
            let mut handlers = Vec::new();
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let r = Arc::clone(&r);
                handlers.push(std::thread::spawn(move || serve(conn, &r)));
            }
            for h in handlers {
                h.join().expect("handler thread");
            }
        })?;
        Ok(Self {
            addr,
            stop,
            release_hang,
            thread,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn shut_down(self) {
        self.stop.store(true, Ordering::SeqCst);
        self.release_hang.set();
        // Wake the accept loop so it sees `stop`.
        let _ = TcpStream::connect(self.addr);
        self.thread.join().expect("server thread");
    }
}

/// Answers one request: `/page/N`, `/slow`, `/hang` (no answer until released), or 404.
fn serve(mut conn: TcpStream, release_hang: &Event) {
    // Read the whole request head before answering: closing a socket with unread input
    // resets the connection, and the client would see its request fail.
    let mut reader = BufReader::new(&conn);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut header = String::new();
    while reader.read_line(&mut header).is_ok_and(|n| n > 0) && header != "\r\n" {
        header.clear();
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("/");
    let (status, body) = match path {
        p if p.starts_with("/page/") => (200, format!("<h1>page {}</h1>", &p[6..])),
        "/slow" => {
            std::thread::sleep(SLOW_PAGE_DELAY); // sleep-ok: simulates a slow page
            (200, "<h1>slow but fine</h1>".to_owned())
        }
        "/hang" => {
            // Never answers while the crawl runs; the client's timeout must fire.
            release_hang.wait_timeout(CRAWL_TIMEOUT);
            return;
        }
        _ => (404, "not found".to_owned()),
    };
    let reason = if status == 200 { "OK" } else { "Not Found" };
    let _ = write!(
        conn,
        "HTTP/1.1 {status} {reason}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// Fetches `url` with a per-page time limit on connecting, writing and reading.
fn fetch(url: &str) -> Result<Page, String> {
    let rest = url.strip_prefix("http://").ok_or("not an http url")?;
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let addr: SocketAddr = host.parse().map_err(|e| format!("bad address: {e}"))?;
    let mut conn = TcpStream::connect_timeout(&addr, PAGE_TIMEOUT).map_err(|e| e.to_string())?;
    conn.set_read_timeout(Some(PAGE_TIMEOUT))
        .map_err(|e| e.to_string())?;
    conn.set_write_timeout(Some(PAGE_TIMEOUT))
        .map_err(|e| e.to_string())?;
    // One write: `write!` on a socket sends each formatted piece as its own segment.
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    conn.write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut response = String::new();
    conn.read_to_string(&mut response)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
                format!("timed out after {PAGE_TIMEOUT:?}")
            }
            _ => e.to_string(),
        })?;
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("malformed response")?;
    let body = response
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    Ok(Page { status, body })
}

fn main() -> std::io::Result<()> {
    let server = Server::start()?;
    let paths = [
        "/page/1", "/page/2", "/slow", "/page/3", "/hang", "/missing", "/page/4",
    ];
    let urls: Vec<String> = paths.iter().map(|p| server.url(p)).collect();

    let pool = ThreadPoolExecutor::builder()
        .max_workers(4)
        .thread_name_prefix("crawler")
        .build();
    let started = Instant::now();
    let futures: Vec<Future<Result<Page, String>>> = urls
        .iter()
        .cloned()
        .map(|url| pool.submit(move || fetch(&url)))
        .collect();

    let mut results: Vec<(usize, Result<Page, String>)> = Vec::new();
    for done in as_completed(&futures, Some(CRAWL_TIMEOUT)) {
        let fut = done.expect("the crawl finishes inside CRAWL_TIMEOUT");
        let index = futures
            .iter()
            .position(|f| f.ptr_eq(fut))
            .expect("one of ours");
        let outcome = fut.result().expect("fetch tasks do not panic");
        match &outcome {
            Ok(page) => println!(
                "{:>7.1?}  {:<10} {} {:>3} bytes  {}",
                started.elapsed(),
                paths[index],
                page.status,
                page.body.len(),
                page.body
            ),
            Err(e) => println!(
                "{:>7.1?}  {:<10} error: {e}",
                started.elapsed(),
                paths[index]
            ),
        }
        results.push((index, outcome));
    }
    pool.shutdown(true, false);
    server.shut_down();

    results.sort_by_key(|(i, _)| *i);
    assert_eq!(results.len(), paths.len(), "every page is reported once");
    for (i, outcome) in &results {
        match paths[*i] {
            "/hang" => assert!(
                matches!(outcome, Err(e) if e.contains("timed out")),
                "the hanging page times out: {outcome:?}"
            ),
            "/missing" => assert_eq!(outcome.as_ref().map(|p| p.status), Ok(404)),
            "/slow" => assert_eq!(outcome.as_ref().map(|p| p.status), Ok(200)),
            p => {
                let page = outcome.as_ref().expect("fast pages load");
                assert_eq!(page.status, 200);
                assert_eq!(page.body, format!("<h1>page {}</h1>", &p[6..]));
            }
        }
    }
    println!(
        "crawled {} pages in {:.1?}; the hanging page hit its {PAGE_TIMEOUT:?} limit",
        results.len(),
        started.elapsed()
    );
    Ok(())
}
