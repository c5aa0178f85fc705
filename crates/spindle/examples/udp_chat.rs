//! A scripted UDP chat on 127.0.0.1: a hub relays each message to every other member.
//!
//! Shows `asyncio::UdpSocket` (`bind`, `send_to`, `recv_from`), `create_datagram_endpoint`
//! with a remote address, tasks per member, and `timeout` bounding every receive. The script
//! is fixed, so the program ends by itself.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use spindle::asyncio::{self, UdpSocket};

const MEMBERS: [&str; 3] = ["ada", "bob", "cy"];
/// Every receive is bounded, so a lost datagram ends the example with an error, not a hang.
const LIMIT: Duration = Duration::from_secs(5);

/// Welcomes members; once all have joined, tells them to start; then relays every datagram
/// to all other members and stops after `messages` relays.
async fn hub(sock: UdpSocket, messages: usize) {
    let mut members: BTreeSet<SocketAddr> = BTreeSet::new();
    let mut buf = [0u8; 1024];
    let mut relayed = 0;
    while relayed < messages {
        let (n, from) = asyncio::timeout(LIMIT, sock.recv_from(&mut buf))
            .await
            .expect("hub timed out")
            .expect("recv");
        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
        if let Some(name) = text.strip_prefix("JOIN ") {
            println!("hub: {name} joined from {from}");
            members.insert(from);
            sock.send_to(b"WELCOME", from).await.expect("send");
            if members.len() == MEMBERS.len() {
                for m in &members {
                    sock.send_to(b"START", *m).await.expect("start");
                }
            }
            continue;
        }
        for m in members.iter().filter(|m| **m != from) {
            sock.send_to(text.as_bytes(), *m).await.expect("relay");
        }
        relayed += 1;
    }
}

/// Joins, says one line, then reads the lines of the other members.
async fn member(name: &'static str, hub: SocketAddr, others: usize) -> Vec<String> {
    let sock = asyncio::create_datagram_endpoint(None, Some(&hub.to_string())).expect("endpoint");
    let mut buf = [0u8; 1024];
    sock.send(format!("JOIN {name}").as_bytes())
        .await
        .expect("join");
    let n = asyncio::timeout(LIMIT, sock.recv(&mut buf))
        .await
        .expect("welcome")
        .expect("recv");
    assert_eq!(&buf[..n], b"WELCOME");
    // The hub says START once everyone has joined, so nobody misses a line.
    let n = asyncio::timeout(LIMIT, sock.recv(&mut buf))
        .await
        .expect("start")
        .expect("recv");
    assert_eq!(&buf[..n], b"START");
    sock.send(format!("{name}: hi all").as_bytes())
        .await
        .expect("say");
    let mut heard = Vec::new();
    while heard.len() < others {
        let n = asyncio::timeout(LIMIT, sock.recv(&mut buf))
            .await
            .expect("line")
            .expect("recv");
        heard.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    heard.sort();
    println!("{name} heard {heard:?}");
    heard
}

fn main() {
    let heard = asyncio::run(async {
        let hub_sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let hub_addr = hub_sock.local_addr().expect("addr");
        let hub_task = asyncio::spawn(hub(hub_sock, MEMBERS.len()));
        let members: Vec<_> = MEMBERS
            .iter()
            .map(|name| asyncio::spawn(member(name, hub_addr, MEMBERS.len() - 1)))
            .collect();
        let heard = asyncio::gather(members).await;
        hub_task.await.expect("hub");
        heard
    });
    for (name, lines) in MEMBERS.iter().zip(&heard) {
        let lines = lines.as_ref().expect("member task");
        assert_eq!(lines.len(), MEMBERS.len() - 1);
        assert!(
            lines.iter().all(|l| !l.starts_with(name)),
            "nobody hears themselves"
        );
    }
    println!(
        "chat over: every member heard the other {}",
        MEMBERS.len() - 1
    );
}
