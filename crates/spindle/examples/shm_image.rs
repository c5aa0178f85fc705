//! Two processes render the halves of an "image" into one named `SharedMemory` segment; the
//! parent attaches nothing but the name, waits, checks every pixel, and unlinks the segment.
//!
//! Python: `multiprocessing.shared_memory.SharedMemory(create=True, size=...)`, children
//! attaching with `SharedMemory(name=...)`.

use spindle::multiprocessing::shared_memory::SharedMemory;
use spindle::multiprocessing::Process;

const WIDTH: usize = 256;
const HEIGHT: usize = 128;

/// The colour of pixel (x, y): a deterministic gradient both sides can compute.
fn pixel(x: usize, y: usize) -> u8 {
    ((x * 3 + y * 5) % 256) as u8
}

fn render_half((name, half): (String, usize)) {
    let mut shm = SharedMemory::attach(&name).expect("attach segment");
    let rows = HEIGHT / 2;
    let buf = shm.as_slice_mut();
    for y in half * rows..(half + 1) * rows {
        for x in 0..WIDTH {
            buf[y * WIDTH + x] = pixel(x, y);
        }
    }
    println!(
        "  {} rendered rows {}..{}",
        spindle::multiprocessing::current_process().name(),
        half * rows,
        (half + 1) * rows
    );
}

fn main() {
    spindle::multiprocessing::init();

    let image = SharedMemory::create(None, WIDTH * HEIGHT).expect("create segment");
    println!("segment {:?}, {} bytes", image.name(), image.size());

    let mut painters: Vec<Process> = (0..2)
        .map(|half| {
            Process::new(render_half, (image.name().to_string(), half))
                .name(format!("painter-{half}"))
        })
        .collect();
    for p in &mut painters {
        p.start().expect("start painter");
    }
    for p in &painters {
        assert_eq!(p.join().expect("join"), 0);
    }

    let buf = image.buf();
    let wrong = (0..HEIGHT)
        .flat_map(|y| (0..WIDTH).map(move |x| (x, y)))
        .filter(|&(x, y)| buf[y * WIDTH + x] != pixel(x, y))
        .count();
    println!("checked {} pixels, {wrong} wrong", WIDTH * HEIGHT);
    assert_eq!(wrong, 0);

    image.unlink().expect("unlink");
    assert!(
        SharedMemory::attach(image.name()).is_err(),
        "segment is gone after unlink"
    );
    println!("segment unlinked");
}
