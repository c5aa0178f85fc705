//! Stream readers fed by hand: `readuntil`, `readexactly`, `readline`, limits and EOF.
//! Modelled on CPython's `test_asyncio/test_streams.py` (StreamTests using feed_data).

use spindle_async::{run, spawn, yield_now, StreamError, StreamReader};

#[test]
fn read_returns_what_is_buffered_up_to_n() {
    run(async {
        let r = StreamReader::new(1024);
        r.feed_data(b"abcdef");
        assert_eq!(r.read(4).await.unwrap(), b"abcd");
        assert_eq!(r.read(0).await.unwrap(), b"");
        assert_eq!(r.read(100).await.unwrap(), b"ef");
        r.feed_eof();
        assert_eq!(r.read(5).await.unwrap(), b"", "EOF reads as empty");
        assert!(r.at_eof());
    });
}

#[test]
fn read_waits_for_data() {
    run(async {
        let r = StreamReader::new(1024);
        let r2 = r.clone();
        let t = spawn(async move { r2.read(10).await.unwrap() });
        yield_now().await;
        assert!(!t.done());
        r.feed_data(b"late");
        assert_eq!(t.await.unwrap(), b"late");
    });
}

#[test]
fn read_to_end() {
    run(async {
        let r = StreamReader::new(4);
        let r2 = r.clone();
        let t = spawn(async move { r2.read_to_end().await.unwrap() });
        for chunk in [&b"one "[..], b"two ", b"three"] {
            yield_now().await;
            r.feed_data(chunk);
        }
        r.feed_eof();
        assert_eq!(t.await.unwrap(), b"one two three");
    });
}

#[test]
fn readexactly_and_incomplete_read() {
    run(async {
        let r = StreamReader::new(1024);
        r.feed_data(b"12345");
        assert_eq!(r.readexactly(3).await.unwrap(), b"123");
        r.feed_eof();
        match r.readexactly(5).await {
            Err(StreamError::IncompleteRead { partial, expected }) => {
                assert_eq!(partial, b"45");
                assert_eq!(expected, Some(5));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(r.at_eof());
        assert_eq!(r.readexactly(0).await.unwrap(), b"");
    });
}

#[test]
fn readuntil_multi_byte_separator_across_feeds() {
    run(async {
        let r = StreamReader::new(1024);
        let r2 = r.clone();
        let t = spawn(async move { r2.readuntil(b"\r\n\r\n").await.unwrap() });
        for chunk in [&b"GET / HTTP/1.1\r"[..], b"\nHost: x\r\n", b"\r", b"\nBODY"] {
            yield_now().await;
            r.feed_data(chunk);
        }
        assert_eq!(t.await.unwrap(), b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(r.read(10).await.unwrap(), b"BODY");
    });
}

#[test]
fn readuntil_eof_gives_incomplete_read_with_everything() {
    run(async {
        let r = StreamReader::new(1024);
        r.feed_data(b"no separator");
        r.feed_eof();
        match r.readuntil(b"|").await {
            Err(StreamError::IncompleteRead { partial, expected }) => {
                assert_eq!(partial, b"no separator");
                assert_eq!(expected, None);
            }
            other => panic!("unexpected {other:?}"),
        }
        let msg = StreamError::IncompleteRead {
            partial: vec![1, 2],
            expected: None,
        }
        .to_string();
        assert_eq!(msg, "2 bytes read on a total of undefined expected bytes");
    });
}

#[test]
fn readuntil_limit_overrun_keeps_the_data() {
    run(async {
        let r = StreamReader::new(8);
        r.feed_data(b"0123456789|");
        match r.readuntil(b"|").await {
            Err(StreamError::LimitOverrun { consumed }) => assert_eq!(consumed, 11),
            other => panic!("unexpected {other:?}"),
        }
        // Still buffered: a bigger read gets it.
        assert_eq!(r.readexactly(11).await.unwrap(), b"0123456789|");
        // Not found and already over the limit.
        r.feed_data(b"abcdefghijk");
        assert!(matches!(
            r.readuntil(b"|").await,
            Err(StreamError::LimitOverrun { consumed: 11 })
        ));
    });
}

#[test]
fn readline_semantics() {
    run(async {
        let r = StreamReader::new(8);
        r.feed_data(b"ok\nthis line is too long\nnext\n");
        assert_eq!(r.readline().await.unwrap(), b"ok\n");
        assert!(matches!(
            r.readline().await,
            Err(StreamError::LimitOverrun { .. })
        ));
        // The long line was discarded, like Python's readline does.
        assert_eq!(r.readline().await.unwrap(), b"next\n");
        r.feed_data(b"tail");
        r.feed_eof();
        assert_eq!(r.readline().await.unwrap(), b"tail", "partial last line");
        assert_eq!(r.readline().await.unwrap(), b"", "then EOF");
    });
}

#[test]
#[should_panic(expected = "separator should be at least one byte")]
fn empty_separator_panics() {
    run(async {
        let r = StreamReader::new(8);
        let _ = r.readuntil(b"").await;
    });
}

#[test]
fn large_feed_grows_the_buffer() {
    const BYTES: usize = 1 << 20;
    run(async {
        let r = StreamReader::new(usize::MAX);
        let data: Vec<u8> = (0..BYTES).map(|i| (i % 251) as u8).collect();
        for c in data.chunks(7_777) {
            r.feed_data(c);
        }
        assert_eq!(r.readexactly(BYTES).await.unwrap(), data);
    });
}
