//! UDP on 127.0.0.1: an echo endpoint with several clients, connected sockets, endpoint
//! creation errors. Modelled on CPython's `test_asyncio/test_events.py` (datagram tests).

use std::time::Duration;

use spindle_async::{create_datagram_endpoint, gather, run, spawn, timeout, UdpSocket};

const LIMIT: Duration = Duration::from_secs(20);

#[test]
fn udp_echo_with_several_clients() {
    const CLIENTS: usize = 8;
    const MESSAGES: usize = 20;
    run(async {
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = server.local_addr().unwrap();
        let echo = spawn(async move {
            let mut buf = [0u8; 1500];
            for _ in 0..CLIENTS * MESSAGES {
                let (n, from) = server.recv_from(&mut buf).await.unwrap();
                server.send_to(&buf[..n], from).await.unwrap();
            }
        });
        let clients: Vec<_> = (0..CLIENTS)
            .map(|c| {
                spawn(async move {
                    let sock = create_datagram_endpoint(None, Some(&addr.to_string())).unwrap();
                    assert_eq!(sock.peer_addr().unwrap(), addr);
                    let mut buf = [0u8; 64];
                    for i in 0..MESSAGES {
                        let msg = format!("{c}:{i}");
                        sock.send(msg.as_bytes()).await.unwrap();
                        // Loopback UDP does not drop under this load; the bound catches a hang.
                        let n = timeout(LIMIT, sock.recv(&mut buf)).await.unwrap().unwrap();
                        assert_eq!(&buf[..n], msg.as_bytes());
                    }
                })
            })
            .collect();
        for r in gather(clients).await {
            r.unwrap();
        }
        timeout(LIMIT, echo).await.unwrap().unwrap();
    });
}

#[test]
fn endpoint_needs_an_address() {
    run(async {
        let err = create_datagram_endpoint(None, None).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
        let unconnected = UdpSocket::bind("127.0.0.1:0").unwrap();
        assert!(unconnected.peer_addr().is_err());
        assert!(unconnected.send(b"x").await.is_err());
    });
}

#[test]
fn local_endpoint_binds_where_asked() {
    run(async {
        let s = create_datagram_endpoint(Some("127.0.0.1:0"), None).unwrap();
        assert!(s.local_addr().unwrap().ip().is_loopback());
    });
}
