//! Pipe/Connection: send/recv across processes, poll, EOF, oversize and undecodable
//! messages, `wait` (after CPython's `_TestConnection`).

spindle_process::test_support!();

mod support;

use std::time::Duration;

use spindle_process::connection::{wait, DEFAULT_MAX_MESSAGE};
use spindle_process::{Connection, ConnectionError, Pipe, Process};
use support::{join_or_kill, process_lock, LIMIT};

/// Echoes every message back until end of file.
fn echo(conn: Connection) {
    while let Ok(msg) = conn.recv_bytes() {
        conn.send_bytes(&msg).unwrap();
    }
}

#[test]
fn smoke_send_recv_in_one_process() {
    let (a, b) = Pipe(true).unwrap();
    a.send(&vec![1u32, 2, 3]).unwrap();
    b.send(&"back".to_string()).unwrap();
    assert_eq!(b.recv::<Vec<u32>>().unwrap(), vec![1, 2, 3]);
    assert_eq!(a.recv::<String>().unwrap(), "back");
    a.send_bytes(b"").unwrap();
    assert_eq!(b.recv_bytes().unwrap(), b"");
}

#[test]
fn echo_through_a_child() {
    let _g = process_lock();
    let (a, b) = Pipe(true).unwrap();
    let mut p = Process::new(echo, b);
    p.start().unwrap();
    for size in [0usize, 1, 100, 70_000, 1 << 20] {
        let msg: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        a.send_bytes(&msg).unwrap();
        assert_eq!(a.recv_bytes_timeout(LIMIT).unwrap(), msg);
    }
    a.send(&(7u8, "typed".to_string())).unwrap();
    assert_eq!(
        a.recv_timeout::<(u8, String)>(LIMIT).unwrap(),
        (7, "typed".to_string())
    );
    drop(a); // EOF ends the echo loop
    assert_eq!(join_or_kill(&p), 0);
}

#[test]
fn eof_after_peer_closed_and_drained() {
    let (a, mut b) = Pipe(true).unwrap();
    b.send_bytes(b"last").unwrap();
    b.close();
    assert!(b.closed());
    assert!(a.poll(Some(Duration::ZERO)));
    assert_eq!(a.recv_bytes().unwrap(), b"last");
    assert!(a.poll(Some(Duration::ZERO)), "EOF is readable");
    assert!(matches!(a.recv_bytes(), Err(ConnectionError::Eof)));
    assert!(matches!(
        a.send_bytes(b"x"),
        Err(ConnectionError::BrokenPipe)
    ));
}

#[test]
fn eof_when_child_exits() {
    let _g = process_lock();
    fn say_once(c: Connection) {
        c.send(&1u8).unwrap();
    }
    let (a, b) = Pipe(true).unwrap();
    let mut p = Process::new(say_once, b);
    p.start().unwrap();
    // Our copy of `b` was moved into the Process and dropped at start: only the child held it.
    assert_eq!(a.recv_timeout::<u8>(LIMIT).unwrap(), 1);
    assert_eq!(join_or_kill(&p), 0);
    assert!(matches!(
        a.recv_bytes_timeout(LIMIT),
        Err(ConnectionError::Eof)
    ));
}

#[test]
fn closed_end_gives_closed_error() {
    let (mut a, _b) = Pipe(true).unwrap();
    a.close();
    assert!(matches!(a.send_bytes(b"x"), Err(ConnectionError::Closed)));
    assert!(matches!(a.recv_bytes(), Err(ConnectionError::Closed)));
    assert!(!a.poll(Some(Duration::ZERO)));
}

#[test]
fn one_way_pipe_ends_refuse_the_other_direction() {
    let (rx, tx) = Pipe(false).unwrap();
    assert!(rx.readable() && !rx.writable());
    assert!(tx.writable() && !tx.readable());
    assert!(matches!(
        rx.send_bytes(b"x"),
        Err(ConnectionError::NotWritable)
    ));
    assert!(matches!(tx.recv_bytes(), Err(ConnectionError::NotReadable)));
    tx.send(&5i64).unwrap();
    assert_eq!(rx.recv::<i64>().unwrap(), 5);
    drop(tx);
    assert!(matches!(rx.recv_bytes(), Err(ConnectionError::Eof)));
}

#[test]
fn poll_times_out_then_sees_data() {
    let (a, b) = Pipe(true).unwrap();
    assert!(!a.poll(Some(Duration::from_millis(10))));
    assert!(matches!(
        a.recv_bytes_timeout(Duration::from_millis(10)),
        Err(ConnectionError::Timeout)
    ));
    b.send_bytes(b"now").unwrap();
    assert!(a.poll(None));
    assert_eq!(a.recv_bytes().unwrap(), b"now");
}

#[test]
fn oversize_send_is_refused_and_nothing_is_written() {
    let (a, b) = Pipe(true).unwrap();
    a.set_max_message_size(8);
    let err = a.send_bytes(&[0u8; 9]).unwrap_err();
    assert!(
        matches!(err, ConnectionError::TooLarge { size: 9, max: 8 }),
        "{err:?}"
    );
    assert!(matches!(
        a.send(&vec![0u8; 64]),
        Err(ConnectionError::TooLarge { .. })
    ));
    assert!(!b.poll(Some(Duration::ZERO)));
}

#[test]
fn oversize_message_is_skipped_and_stream_stays_in_sync() {
    let (a, b) = Pipe(true).unwrap();
    b.set_max_message_size(16);
    a.send_bytes(&[7u8; 100_000])
        .unwrap_or_else(|e| panic!("{e}"));
    a.send_bytes(b"next").unwrap();
    let err = b.recv_bytes().unwrap_err();
    assert!(
        matches!(
            err,
            ConnectionError::TooLarge {
                size: 100_000,
                max: 16
            }
        ),
        "{err:?}"
    );
    assert_eq!(b.recv_bytes().unwrap(), b"next");
    assert_eq!(b.max_message_size(), 16);
    assert_eq!(a.max_message_size(), DEFAULT_MAX_MESSAGE);
}

#[test]
fn undecodable_message_is_consumed() {
    let (a, b) = Pipe(true).unwrap();
    a.send_bytes(&[0xff; 3]).unwrap();
    a.send(&42u16).unwrap();
    assert!(matches!(
        b.recv::<String>(),
        Err(ConnectionError::Decode(_))
    ));
    assert_eq!(b.recv::<u16>().unwrap(), 42);
}

#[test]
fn wait_reports_ready_connections() {
    let (a1, b1) = Pipe(true).unwrap();
    let (a2, b2) = Pipe(true).unwrap();
    let (mut a3, _b3) = Pipe(true).unwrap();
    a3.close();
    assert!(wait(&[&a1, &a2, &a3], Some(Duration::from_millis(10)))
        .unwrap()
        .is_empty());
    b1.send(&1u8).unwrap();
    b2.send(&2u8).unwrap();
    assert_eq!(wait(&[&a1, &a2, &a3], None).unwrap(), vec![0, 1]);
}

#[test]
fn serialising_a_connection_outside_a_start_is_an_error() {
    let (a, _b) = Pipe(true).unwrap();
    let (x, _y) = Pipe(true).unwrap();
    let err = x.send(&a).unwrap_err();
    assert!(
        matches!(&err, ConnectionError::Encode(m) if m.contains("file descriptor")),
        "{err:?}"
    );
}

#[test]
fn concurrent_senders_never_interleave_frames() {
    const THREADS: usize = 4;
    const MSGS: usize = 200;
    let (a, b) = Pipe(true).unwrap();
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let a = &a;
            s.spawn(move || {
                for i in 0..MSGS {
                    a.send_bytes(&vec![t as u8; 1000 + i]).unwrap();
                }
            });
        }
        for _ in 0..THREADS * MSGS {
            let m = b.recv_bytes_timeout(LIMIT).unwrap();
            assert!(m.iter().all(|&x| x == m[0]), "interleaved frame");
        }
    });
}

mod model {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Any sequence of messages arrives whole and in order; those over the receiver's
        /// limit are skipped with `TooLarge` and never desynchronise the stream.
        #[test]
        fn messages_arrive_in_order_and_oversize_ones_are_skipped(
            msgs in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..3000), 0..20),
            max in 0usize..2500,
        ) {
            let (a, b) = Pipe(true).unwrap();
            b.set_max_message_size(max);
            std::thread::scope(|s| {
                s.spawn(|| {
                    for m in &msgs {
                        a.send_bytes(m).unwrap();
                    }
                });
                for m in &msgs {
                    match b.recv_bytes_timeout(LIMIT) {
                        Ok(got) => assert_eq!(&got, m),
                        Err(ConnectionError::TooLarge { size, max: lim }) => {
                            assert_eq!(size, m.len());
                            assert!(m.len() > lim);
                        }
                        Err(e) => panic!("{e}"),
                    }
                }
            });
            prop_assert!(!b.poll(Some(Duration::ZERO)));
        }

        /// Typed values round-trip through the codec.
        #[test]
        fn typed_values_round_trip(v in any::<(i64, String, Vec<Option<u16>>, bool)>()) {
            let (a, b) = Pipe(true).unwrap();
            a.send(&v).unwrap();
            prop_assert_eq!(b.recv::<(i64, String, Vec<Option<u16>>, bool)>().unwrap(), v);
        }
    }
}
