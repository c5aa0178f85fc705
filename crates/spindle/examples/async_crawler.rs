//! An async "crawler": fetch many pages from a local HTTP-ish server with bounded
//! concurrency (an `asyncio::Semaphore`) and a per-request `timeout`.
//!
//! The example starts its own server on 127.0.0.1; some of its pages never answer, so their
//! requests time out. Shows `Semaphore::permit`, `timeout`, `TaskGroup`-free fan-out with
//! `gather`, and a peak-concurrency check. It ends by itself.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use spindle::asyncio::{self, Semaphore, StreamReader, StreamWriter};

const PAGES: usize = 24;
const MAX_CONCURRENT: usize = 4;
const REQUEST_TIMEOUT: Duration = Duration::from_millis(200);

/// Serves `GET /<n>`: page n's body, except every 6th page, which hangs until the client
/// goes away (a slow server the crawler must not wait for).
async fn serve(reader: StreamReader, writer: StreamWriter) {
    let Ok(line) = reader.readline().await else {
        return;
    };
    let path = String::from_utf8_lossy(&line);
    let n: usize = path.trim().trim_start_matches("GET /").parse().unwrap_or(0);
    if n % 6 == 5 {
        // Never answers; reads until the client closes.
        let _ = reader.read_to_end().await;
        return;
    }
    let body = format!("page {n}: {}\n", "x".repeat(n));
    writer.write(format!("200 {}\n{body}", body.len()).as_bytes());
    let _ = writer.drain().await;
    writer.close();
}

#[derive(Debug)]
enum Fetch {
    Ok(usize),
    TimedOut,
}

async fn fetch(port: u16, n: usize) -> std::io::Result<usize> {
    let (reader, writer) = asyncio::open_connection("127.0.0.1", port).await?;
    writer.write(format!("GET /{n}\n").as_bytes());
    writer.drain().await?;
    let status = reader.readline().await.map_err(std::io::Error::other)?;
    let len: usize = String::from_utf8_lossy(&status)
        .trim()
        .trim_start_matches("200 ")
        .parse()
        .map_err(std::io::Error::other)?;
    let body = reader
        .readexactly(len)
        .await
        .map_err(std::io::Error::other)?;
    writer.close();
    Ok(body.len())
}

fn main() {
    let (results, peak) = asyncio::run(async {
        let server = asyncio::start_server(serve, "127.0.0.1", 0)
            .await
            .expect("bind");
        let port = server.local_addr().port();
        let sem = Arc::new(Semaphore::new(MAX_CONCURRENT));
        let (active, peak) = (Rc::new(Cell::new(0usize)), Rc::new(Cell::new(0usize)));
        let tasks: Vec<_> = (0..PAGES)
            .map(|n| {
                let (sem, active, peak) = (sem.clone(), active.clone(), peak.clone());
                asyncio::spawn(async move {
                    let _permit = sem.permit().await;
                    active.set(active.get() + 1);
                    peak.set(peak.get().max(active.get()));
                    let r = asyncio::timeout(REQUEST_TIMEOUT, fetch(port, n)).await;
                    active.set(active.get() - 1);
                    match r {
                        Ok(Ok(bytes)) => Fetch::Ok(bytes),
                        Ok(Err(e)) => panic!("page {n} failed: {e}"),
                        Err(_) => Fetch::TimedOut,
                    }
                })
            })
            .collect();
        let results: Vec<Fetch> = asyncio::gather(tasks)
            .await
            .into_iter()
            .map(|r| r.expect("fetch task"))
            .collect();
        server.close();
        (results, peak.get())
    });
    let mut fetched = 0;
    let mut timed_out = 0;
    for (n, r) in results.iter().enumerate() {
        match r {
            Fetch::Ok(bytes) => {
                assert!(n % 6 != 5);
                fetched += 1;
                println!("page {n:2}: {bytes} bytes");
            }
            Fetch::TimedOut => {
                assert_eq!(n % 6, 5, "only the hanging pages time out");
                timed_out += 1;
                println!("page {n:2}: timed out after {REQUEST_TIMEOUT:?}");
            }
        }
    }
    assert_eq!(timed_out, PAGES / 6);
    assert_eq!(fetched + timed_out, PAGES);
    assert!(peak <= MAX_CONCURRENT);
    println!("{fetched} pages fetched, {timed_out} timed out, at most {peak} at once");
}
