//! One captured packet at a time through the pipeline, on the capture's clock.

use std::net::IpAddr;

use ctguard_conntrack::intake::{self, LinkType};
use ctguard_conntrack::{Instant, view};
use ctguard_netfilter::modules::TrackingRequired;
use ctguard_netfilter::pipeline::{Decision, Output, Pipeline};

use crate::config::Config;
use crate::summary::Summary;

/// What happened to one packet.
#[derive(Clone, Debug)]
pub struct Verdict {
    pub index: u64,
    pub time: Instant,
    pub decision: Decision,
    /// The packet's entry after it, as a /proc/net/nf_conntrack line (when asked for).
    pub conntrack: Option<String>,
}

/// A replay in progress.
pub struct Replayer {
    pipeline: Pipeline,
    local: Vec<IpAddr>,
    default_iface: String,
    index: u64,
    summary: Summary,
    logs: Vec<(Instant, String)>,
    keep_logs: bool,
    line: String,
}

impl Replayer {
    /// `ifaces`: the capture's interface names (pcapng), if it has any.
    pub fn new(cfg: &Config, ifaces: &[String]) -> Result<Replayer, TrackingRequired> {
        let mut pipeline = Pipeline::with_seed(
            cfg.sysctl.clone(),
            cfg.seed,
            cfg.rules4.clone(),
            cfg.rules6.clone(),
            cfg.host(ifaces),
        );
        if !cfg.tracking {
            pipeline = pipeline.without_tracking()?;
        }
        pipeline.set_table_events(true);
        Ok(Replayer {
            summary: Summary::new(cfg.sysctl.max)
                .with_policy(cfg.sysctl.protect.policy)
                .with_clients(
                    (!cfg.clients.is_empty())
                        .then(|| crate::clients::Clients::new(cfg.clients.clone())),
                ),
            pipeline,
            local: cfg.local.clone(),
            default_iface: cfg.iface.clone(),
            index: 0,
            logs: Vec::new(),
            keep_logs: false,
            line: String::with_capacity(256),
        })
    }

    /// Keep kernel log lines for [`Replayer::take_logs`].
    pub fn keep_logs(&mut self, on: bool) {
        self.keep_logs = on;
    }

    pub fn take_logs(&mut self) -> Vec<(Instant, String)> {
        std::mem::take(&mut self.logs)
    }

    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    pub fn pipeline_mut(&mut self) -> &mut Pipeline {
        &mut self.pipeline
    }

    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    /// One captured frame. `iface`: the capture's interface name, if it gives one.
    /// `want_line`: fill [`Verdict::conntrack`].
    pub fn packet(
        &mut self,
        time: Instant,
        link: LinkType,
        iface: Option<&str>,
        frame: &[u8],
        want_line: bool,
    ) -> Verdict {
        let index = self.index;
        self.index += 1;
        let parsed = intake::parse_frame(link, frame);
        let addrs = parsed.as_ref().ok().map(|ip| {
            (
                ctguard_conntrack::addr_from_bytes(ip.l3, &ip.src),
                ctguard_conntrack::addr_from_bytes(ip.l3, &ip.dst),
            )
        });
        let from_local = addrs.is_some_and(|(src, _)| self.local.contains(&src));
        // Traffic between loopback addresses is on lo, whatever the capture calls its
        // interface (a spoofed 127.x source elsewhere is a martian, dropped by routing).
        let on_lo = addrs.is_some_and(|(s, d)| s.is_loopback() && d.is_loopback());
        if parsed.is_err() {
            self.summary.malformed += 1;
        }
        let decision = if from_local {
            let ip = parsed.expect("checked").packet.to_vec();
            self.pipeline.send(&ip, time)
        } else {
            let iface = if on_lo {
                ctguard_netfilter::pipeline::host::LOOPBACK.to_string()
            } else {
                iface.unwrap_or(&self.default_iface).to_string()
            };
            self.pipeline.receive(&iface, link, frame, time)
        };
        self.drain(time);
        let ct = self.pipeline.conntrack();
        let stats = ct.map(|c| c.stats()).unwrap_or_default();
        let count = ct.map_or(0, |c| c.count());
        self.summary
            .packet(time, &decision, count, &stats, frame, link);
        if let Some(ct) = ct {
            self.summary.snapshot_if_first_full(ct, time);
            self.summary.protect_stats(time, ct.protect_stats());
        }
        let conntrack = match (want_line, decision.conn, ct) {
            (true, Some(id), Some(ct)) => ct.get(id).map(|c| {
                self.line.clear();
                view::proc_line(c, time, ct.sysctl().acct, &mut self.line);
                self.line.clone()
            }),
            _ => None,
        };
        Verdict {
            index,
            time,
            decision,
            conntrack,
        }
    }

    fn drain(&mut self, now: Instant) {
        while let Some(o) = self.pipeline.poll_output() {
            match o {
                Output::Log { line, at } => {
                    self.summary.log_lines += 1;
                    if self.keep_logs {
                        self.logs.push((at, line));
                    }
                }
                Output::Table(e) => {
                    let conn = match &e {
                        ctguard_conntrack::Event::New { id, .. } => {
                            self.pipeline.conntrack().and_then(|c| c.get(*id))
                        }
                        _ => None,
                    };
                    self.summary.table_event(&e, conn, now);
                }
                Output::Transmit { .. } => {}
            }
        }
    }

    /// The table at `at` (after the last packet, or `--at` later, with expiry applied), as
    /// /proc/net/nf_conntrack lines.
    pub fn table_at(&mut self, at: Instant) -> Vec<String> {
        let lines = match self.pipeline.conntrack_mut() {
            Some(ct) => {
                ct.handle_timeout(at);
                ct.proc_lines(at)
            }
            None => Vec::new(),
        };
        self.drain(at);
        lines
    }
}
