//! An asyncio-style TCP echo server on 127.0.0.1 with several concurrent clients.
//!
//! Shows `asyncio::start_server` with a per-connection coroutine, `open_connection`,
//! `StreamReader::readline`, `StreamWriter::write`/`drain`/`close`, `gather` over client
//! tasks, and shutting the server down. It ends by itself.

use spindle::asyncio::{self, StreamReader, StreamWriter};

const CLIENTS: usize = 5;
const LINES: usize = 3;

/// The server side of one connection: echo each line back, upper-cased, until EOF.
async fn handle(reader: StreamReader, writer: StreamWriter) {
    let peer = writer.peer_addr().expect("a TCP peer");
    loop {
        let line = match reader.readline().await {
            Ok(line) if !line.is_empty() => line,
            _ => break,
        };
        writer.write(&line.to_ascii_uppercase());
        if writer.drain().await.is_err() {
            break;
        }
    }
    println!("server: {peer} disconnected");
    writer.close();
}

async fn client(id: usize, port: u16) -> usize {
    let (reader, writer) = asyncio::open_connection("127.0.0.1", port)
        .await
        .expect("connect");
    let mut echoed = 0;
    for n in 0..LINES {
        let msg = format!("hello {n} from client {id}\n");
        writer.write(msg.as_bytes());
        writer.drain().await.expect("drain");
        let reply = reader.readline().await.expect("reply");
        assert_eq!(reply, msg.to_ascii_uppercase().as_bytes());
        print!("client {id}: {}", String::from_utf8_lossy(&reply));
        echoed += 1;
    }
    writer.close();
    writer.wait_closed().await.expect("close");
    echoed
}

fn main() {
    let total = asyncio::run(async {
        let server = asyncio::start_server(handle, "127.0.0.1", 0)
            .await
            .expect("bind 127.0.0.1");
        let port = server.local_addr().port();
        println!("serving on {}", server.local_addr());
        let clients: Vec<_> = (0..CLIENTS)
            .map(|id| asyncio::spawn(client(id, port)))
            .collect();
        let echoed: usize = asyncio::gather(clients)
            .await
            .into_iter()
            .map(|r| r.expect("client task"))
            .sum();
        server.close();
        server.wait_closed().await;
        echoed
    });
    assert_eq!(total, CLIENTS * LINES);
    println!("{total} lines echoed; server closed");
}
