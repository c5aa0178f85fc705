//! A small request/response service in a child process, over a `Pipe`: the parent sends typed
//! requests, the child answers each, and a `Shutdown` request (or end of file) ends it.
//!
//! Python: `parent, child = Pipe(); Process(target=serve, args=(child,))` with
//! `conn.send(...)` / `conn.recv()`.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use spindle::multiprocessing::{Connection, ConnectionError, Pipe, Process};

#[derive(Debug, Serialize, Deserialize)]
enum Request {
    Add(i64, i64),
    Upper(String),
    Stats(Vec<f64>),
    Shutdown,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
enum Response {
    Sum(i64),
    Text(String),
    Stats { mean: f64, max: f64 },
    Error(String),
    Bye { served: u32 },
}

fn serve(conn: Connection) {
    let mut served = 0;
    loop {
        let req: Request = match conn.recv() {
            Ok(r) => r,
            Err(ConnectionError::Eof) => return, // the client went away
            Err(e) => panic!("bad request: {e}"),
        };
        served += 1;
        let resp = match req {
            Request::Add(a, b) => match a.checked_add(b) {
                Some(s) => Response::Sum(s),
                None => Response::Error("overflow".into()),
            },
            Request::Upper(s) => Response::Text(s.to_uppercase()),
            Request::Stats(xs) if xs.is_empty() => Response::Error("no data".into()),
            Request::Stats(xs) => Response::Stats {
                mean: xs.iter().sum::<f64>() / xs.len() as f64,
                max: xs.iter().copied().fold(f64::MIN, f64::max),
            },
            Request::Shutdown => {
                conn.send(&Response::Bye { served }).expect("reply");
                return;
            }
        };
        conn.send(&resp).expect("reply");
    }
}

fn call(conn: &Connection, req: Request) -> Response {
    conn.send(&req).expect("send request");
    conn.recv_timeout(Duration::from_secs(10))
        .expect("response")
}

fn main() {
    spindle::multiprocessing::init();

    let (client, server_end) = Pipe(true).expect("pipe");
    let mut server = Process::new(serve, server_end).name("rpc-server");
    server.start().expect("start server");
    println!("server started as pid {:?}", server.pid());

    let r = call(&client, Request::Add(40, 2));
    println!("add(40, 2) -> {r:?}");
    assert_eq!(r, Response::Sum(42));

    let r = call(&client, Request::Add(i64::MAX, 1));
    println!("add(MAX, 1) -> {r:?}");
    assert_eq!(r, Response::Error("overflow".into()));

    let r = call(&client, Request::Upper("spindle".into()));
    println!("upper(\"spindle\") -> {r:?}");
    assert_eq!(r, Response::Text("SPINDLE".into()));

    let r = call(&client, Request::Stats(vec![1.0, 2.0, 6.0]));
    println!("stats([1, 2, 6]) -> {r:?}");
    assert_eq!(
        r,
        Response::Stats {
            mean: 3.0,
            max: 6.0
        }
    );

    let r = call(&client, Request::Shutdown);
    println!("shutdown -> {r:?}");
    assert_eq!(r, Response::Bye { served: 5 });

    assert!(
        server.join_timeout(Duration::from_secs(10)),
        "server did not exit"
    );
    assert_eq!(server.exitcode(), Some(0));
    println!("server exited with code 0");
}
