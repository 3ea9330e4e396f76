//! `replay`: end to end, as `ctguard replay FILE` runs: a pcap file (already in the page
//! cache) read record by record, each frame through the whole pipeline to its verdict and
//! into the summary. The capture is generated before the timing: the tcp-lifecycle mix, one
//! packet per microsecond, or `--pcap FILE`.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use ctguard_capture::{Capture, PcapWriter};
use ctguard_conntrack::intake::LinkType;
use ctguard_conntrack::{Instant, Verdict};
use ctguard_replay::{Config, Replayer};

use super::Params;
use crate::Report;
use crate::packets::{tcp, tcp_lifecycle};

fn generate(path: &Path, conns: u32) -> Result<(), String> {
    let err = |e: std::io::Error| format!("{}: {e}", path.display());
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let out = BufWriter::new(File::create(path).map_err(err)?);
    let mut w = PcapWriter::new(out, 1, 65535).map_err(err)?;
    let mut t = 1_700_000_000_000_000_000u64;
    for i in 0..conns {
        for (to_server, seg) in tcp_lifecycle(i) {
            w.write(t, &tcp(&seg, to_server)).map_err(err)?;
            t += 1000;
        }
    }
    w.flush().map_err(err)
}

pub fn run(p: &Params) -> Result<Report, String> {
    let conns = p.conns.unwrap_or(100_000) as u32;
    let path: PathBuf = match &p.pcap {
        Some(f) => f.clone(),
        None => {
            // Written afresh each run, so that it always holds today's mix.
            let f = p.scratch.join(format!("replay-tcp-lifecycle-{conns}.pcap"));
            generate(&f, conns)?;
            f
        }
    };
    // Into the page cache.
    std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut sysctl = p.sysctl();
    sysctl.max = sysctl.max.max(conns * 2);
    let cfg = Config::new(sysctl);
    let timed = std::time::Instant::now();
    let mut cap = Capture::open(&path).map_err(|e| e.to_string())?;
    let mut r = Replayer::new(&cfg, &[]).map_err(|e| e.to_string())?;
    let (mut packets, mut accepted) = (0u64, 0u64);
    while let Some(rec) = cap.next_record() {
        let rec = rec.map_err(|e| e.to_string())?;
        let Some(link) = LinkType::from_pcap(rec.link_type) else {
            continue;
        };
        let v = r.packet(Instant::from_nanos(rec.time), link, None, rec.data, false);
        packets += 1;
        accepted += u64::from(v.decision.verdict == Verdict::Accept);
    }
    let secs = timed.elapsed().as_secs_f64();
    let entries = r.pipeline().conntrack().map_or(0, |c| u64::from(c.count()));
    if p.pcap.is_none() && accepted != packets {
        return Err(format!(
            "{} of {packets} packets dropped",
            packets - accepted
        ));
    }
    let mut rep = Report::new("replay", 1, packets, secs);
    rep.entries = entries;
    Ok(rep.extra("accepted", accepted as f64))
}
