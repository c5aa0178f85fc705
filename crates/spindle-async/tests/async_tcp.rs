//! TCP on 127.0.0.1 (port 0): echo server with many concurrent clients, EOF, `drain`
//! back-pressure, connection refused, server close. Modelled on CPython's
//! `test_asyncio/test_streams.py` and `test_server.py`.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use spindle_async::{
    gather, open_connection, open_connection_with_limit, run, spawn, start_server, timeout,
    yield_now, Event, StreamError, StreamReader, StreamWriter,
};

/// Every network wait in these tests is bounded by this, so a bug fails instead of hanging.
const LIMIT: Duration = Duration::from_secs(20);

async fn echo(r: StreamReader, w: StreamWriter) {
    loop {
        match r.readline().await {
            Ok(line) if line.is_empty() => break,
            Ok(line) => {
                w.write(&line);
                if w.drain().await.is_err() {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    w.close();
}

#[test]
fn echo_server_many_concurrent_clients() {
    const CLIENTS: usize = 50;
    const LINES: usize = 20;
    run(async {
        let server = start_server(echo, "127.0.0.1", 0).await.unwrap();
        let port = server.local_addr().port();
        let clients: Vec<_> = (0..CLIENTS)
            .map(|c| {
                spawn(async move {
                    let (r, w) = open_connection("127.0.0.1", port).await.unwrap();
                    for i in 0..LINES {
                        let msg = format!("client {c} line {i}\n");
                        w.write(msg.as_bytes());
                        w.drain().await.unwrap();
                        let back = r.readline().await.unwrap();
                        assert_eq!(back, msg.as_bytes());
                    }
                    w.write_eof();
                    assert_eq!(r.read(10).await.unwrap(), b"", "server closed after EOF");
                    w.close();
                    w.wait_closed().await.unwrap();
                    c
                })
            })
            .collect();
        let done = timeout(LIMIT, gather(clients))
            .await
            .expect("echo clients hung");
        assert_eq!(done.len(), CLIENTS);
        assert!(done.iter().all(|r| r.is_ok()));
        server.close();
        server.wait_closed().await;
        assert!(!server.is_serving());
    });
}

#[test]
fn addresses_are_reported() {
    run(async {
        let server = start_server(|_r, _w| async {}, "127.0.0.1", 0)
            .await
            .unwrap();
        let port = server.local_addr().port();
        assert_ne!(port, 0);
        let (_r, w) = open_connection("127.0.0.1", port).await.unwrap();
        assert_eq!(w.peer_addr().unwrap(), server.local_addr());
        assert!(w.local_addr().unwrap().ip().is_loopback());
        server.close();
    });
}

#[test]
fn connection_refused_is_an_error() {
    run(async {
        // Bind then drop to get a port nobody listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let err = open_connection("127.0.0.1", port).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
    });
}

#[test]
fn drain_applies_back_pressure() {
    const CHUNK: usize = 64 * 1024;
    const CHUNKS: usize = 64; // 4 MiB: well above socket buffers
    run(async {
        let reading = Rc::new(Event::new());
        let total = Rc::new(Cell::new(0usize));
        let (rd, tt) = (reading.clone(), total.clone());
        let server = start_server(
            move |r, _w| {
                let (rd, tt) = (rd.clone(), tt.clone());
                async move {
                    rd.wait().await; // a slow reader: starts only when told
                    loop {
                        let b = r.read(CHUNK).await.unwrap();
                        if b.is_empty() {
                            break;
                        }
                        tt.set(tt.get() + b.len());
                    }
                }
            },
            "127.0.0.1",
            0,
        )
        .await
        .unwrap();
        let (_r, w) = open_connection("127.0.0.1", server.local_addr().port())
            .await
            .unwrap();
        let chunk = vec![7u8; CHUNK];
        let mut blocked = false;
        for _ in 0..CHUNKS {
            w.write(&chunk);
            // While the peer does not read, drain must eventually stop returning at once.
            if timeout(Duration::from_millis(50), w.drain()).await.is_err() {
                blocked = true;
                break;
            }
        }
        assert!(blocked, "drain never applied back-pressure");
        assert!(w.write_buffer_size() > 0);
        reading.set();
        timeout(LIMIT, w.drain()).await.unwrap().unwrap();
        w.close();
        timeout(LIMIT, w.wait_closed()).await.unwrap().unwrap();
        for _ in 0..1000 {
            if total.get() > 0 && w.write_buffer_size() == 0 {
                break;
            }
            yield_now().await;
        }
        assert!(total.get() > 0);
        server.close();
    });
}

#[test]
fn reader_limit_applies_to_sockets() {
    run(async {
        let server = start_server(
            |_r, w| async move {
                w.write(&[b'x'; 100]);
                w.write(b"\n");
                w.drain().await.unwrap();
                w.close();
            },
            "127.0.0.1",
            0,
        )
        .await
        .unwrap();
        let (r, _w) = open_connection_with_limit("127.0.0.1", server.local_addr().port(), 16)
            .await
            .unwrap();
        assert!(matches!(
            timeout(LIMIT, r.readline()).await.unwrap(),
            Err(StreamError::LimitOverrun { .. })
        ));
        server.close();
    });
}

#[test]
fn serve_forever_ends_on_close() {
    run(async {
        let server = Rc::new(
            start_server(|_r, _w| async {}, "127.0.0.1", 0)
                .await
                .unwrap(),
        );
        let s2 = server.clone();
        let serving = spawn(async move { s2.serve_forever().await });
        yield_now().await;
        server.close();
        timeout(LIMIT, serving).await.unwrap().unwrap();
        // The port is free again.
        assert!(open_connection("127.0.0.1", server.local_addr().port())
            .await
            .is_err());
    });
}

#[test]
fn data_and_eof_arriving_together_are_both_seen() {
    const ROUNDS: usize = 20;
    run(async {
        let server = start_server(
            |_r, w| async move {
                w.write(b"bye");
                w.close(); // data and FIN leave together
            },
            "127.0.0.1",
            0,
        )
        .await
        .unwrap();
        for _ in 0..ROUNDS {
            let (r, _w) = open_connection("127.0.0.1", server.local_addr().port())
                .await
                .unwrap();
            let all = timeout(LIMIT, r.read_to_end())
                .await
                .expect("EOF was missed");
            assert_eq!(all.unwrap(), b"bye");
        }
        server.close();
    });
}

/// The peer is a blocking std socket on another thread, so the order of data, FIN and our
/// reads is fixed by hand-offs: a short read must not hide an EOF that came with the data
/// (the reactor's read-closed flag), nor data that comes after it (a new edge).
#[test]
fn short_reads_see_later_data_and_a_fin_that_came_with_the_data() {
    use std::io::Write;
    use std::net::{Shutdown, TcpListener};
    use std::sync::{mpsc, Arc};

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let sent = Arc::new(Event::new());
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let peer = {
        let sent = sent.clone();
        std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            s.write_all(b"first").unwrap();
            sent.set();
            go_rx.recv().unwrap();
            s.write_all(b"second").unwrap();
            s.shutdown(Shutdown::Write).unwrap(); // "second" and FIN, before we read
            sent.set();
        })
    };
    run(async move {
        let (r, _w) = open_connection("127.0.0.1", port).await.unwrap();
        timeout(LIMIT, sent.wait()).await.unwrap();
        // A short read: 5 bytes into a much larger buffer.
        let got = timeout(LIMIT, r.read(100)).await.unwrap().unwrap();
        assert_eq!(got, b"first");
        sent.clear();
        go_tx.send(()).unwrap();
        timeout(LIMIT, sent.wait()).await.unwrap();
        let rest = timeout(LIMIT, r.read_to_end())
            .await
            .expect("data or EOF after a short read was missed");
        assert_eq!(rest.unwrap(), b"second");
    });
    peer.join().unwrap();
}
