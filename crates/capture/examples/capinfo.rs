//! Prints what the reader sees in a capture: `cargo run -p ctguard-capture --example capinfo FILE`.

use ctguard_capture::Capture;

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: capinfo FILE");
        std::process::exit(2);
    };
    let mut cap = match Capture::open(&path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    println!("{:?} gzip={}", cap.format(), cap.is_gzip());
    let (mut n, mut bytes, mut first, mut last) = (0u64, 0u64, None, 0);
    while let Some(r) = cap.next_record() {
        match r {
            Ok(r) => {
                n += 1;
                bytes += r.data.len() as u64;
                first.get_or_insert(r.time);
                last = r.time;
            }
            Err(e) => {
                println!("{n} records, then: {e}");
                break;
            }
        }
    }
    for (i, f) in cap.interfaces().iter().enumerate() {
        println!("interface {i}: {f:?}");
    }
    println!(
        "{n} records, {bytes} bytes, first {first:?}, last {last}, progress {:?}",
        cap.progress()
    );
}
