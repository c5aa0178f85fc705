//! Large arguments and results: frames bigger than a pipe buffer travel both ways, many at
//! once, without deadlock or corruption.

spindle_process::test_support!();

mod pool_support;

use pool_support::LIMIT;
use serde::{Deserialize, Serialize};
use spindle_process::pool::{ByteBuf, Pool, ProcessPoolExecutor};

/// Bytes per payload: well over the 64 KiB pipe buffer.
const BIG: usize = 256 << 10;
/// Payloads in flight at once.
const COUNT: usize = 8;

/// Returns the payload reversed (so a result is as big as its argument).
fn reverse(mut v: Vec<u8>) -> Vec<u8> {
    v.reverse();
    v
}

/// Returns the buffer reversed: the `ByteBuf` form of [`reverse`].
fn reverse_buf(mut v: ByteBuf) -> ByteBuf {
    v.reverse();
    v
}

/// A message with a byte field marked for `serde_bytes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Blob {
    name: String,
    #[serde(with = "spindle_process::pool::serde_bytes")]
    data: Vec<u8>,
}

/// Returns the blob with its bytes reversed and its name upper-cased.
fn flip(mut b: Blob) -> Blob {
    b.data.reverse();
    b.name = b.name.to_uppercase();
    b
}

fn payload(seed: usize, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(31) ^ seed) as u8)
        .collect()
}

#[test]
fn big_arguments_and_results_round_trip() {
    let ex = ProcessPoolExecutor::builder().max_workers(2).build();
    let inputs: Vec<Vec<u8>> = (0..COUNT).map(|s| payload(s, BIG)).collect();
    let futs: Vec<_> = inputs
        .iter()
        .map(|v| ex.submit(reverse, v.clone()))
        .collect();
    for (v, f) in inputs.iter().zip(futs) {
        let mut back = f.result_timeout(LIMIT).unwrap();
        back.reverse();
        assert!(back == *v, "payload corrupted");
    }
}

#[test]
fn mixed_sizes_in_one_map_keep_their_order() {
    let pool = Pool::new(2);
    let sizes = [0usize, 1, 100, 70_000, 10, 300_000, 5, 65_536, 1];
    let inputs: Vec<Vec<u8>> = sizes
        .iter()
        .enumerate()
        .map(|(s, &n)| payload(s, n))
        .collect();
    let got = pool.map(reverse, inputs.clone(), Some(1)).unwrap();
    for (mut g, v) in got.into_iter().zip(inputs) {
        g.reverse();
        assert_eq!(g, v);
    }
    let streamed: Vec<usize> = pool
        .imap(reverse, (0..COUNT).map(|s| payload(s, BIG / 4)), 2)
        .map(|r| r.unwrap().len())
        .collect();
    assert_eq!(streamed, vec![BIG / 4; COUNT]);
}

#[test]
fn byte_buf_payloads_round_trip_both_ways() {
    let ex = ProcessPoolExecutor::builder().max_workers(2).build();
    let inputs: Vec<ByteBuf> = [0usize, 1, 64, 70_000, BIG, 1 << 20]
        .iter()
        .enumerate()
        .map(|(s, &n)| ByteBuf::from(payload(s, n)))
        .collect();
    let futs: Vec<_> = inputs
        .iter()
        .map(|v| ex.submit(reverse_buf, v.clone()))
        .collect();
    for (v, f) in inputs.iter().zip(futs) {
        let mut back = f.result_timeout(LIMIT).unwrap();
        back.reverse();
        assert!(back == *v, "payload of {} bytes corrupted", v.len());
    }
}

#[test]
fn serde_bytes_fields_round_trip_in_a_chunked_map() {
    let pool = Pool::new(2);
    let inputs: Vec<Blob> = (0..COUNT)
        .map(|s| Blob {
            name: format!("blob{s}"),
            data: payload(s, (s * 20_000) % BIG),
        })
        .collect();
    let got = pool.map(flip, inputs.clone(), Some(3)).unwrap();
    for (g, v) in got.into_iter().zip(inputs) {
        assert_eq!(g.name, v.name.to_uppercase());
        let mut data = g.data;
        data.reverse();
        assert!(data == v.data, "{} corrupted", v.name);
    }
}
