//! The profile file: TOML, checked strictly (unknown keys, keys of another kind, bad values
//! are errors naming the file, line and column).

use std::collections::BTreeMap;
use std::fmt;
use std::net::Ipv4Addr;
use std::ops::Range;
use std::path::Path;

use ctguard_conntrack::Sysctl;
use ctguard_conntrack::sysctl::conf;
use serde::Deserialize;
use toml::Spanned;

/// A bad profile: `FILE:LINE:COL: error: MESSAGE`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileError {
    pub file: String,
    /// 1-based; 0 when the error has no place in the file (it could not be read).
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ProfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: error: {}", self.file, self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: error: {}",
                self.file, self.line, self.column, self.message
            )
        }
    }
}

impl std::error::Error for ProfileError {}

/// What kind of traffic a `[[traffic]]` table makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Web,
    SynFlood,
    Dns,
    Scan,
    Crowd,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Web => "web",
            Kind::SynFlood => "syn-flood",
            Kind::Dns => "dns",
            Kind::Scan => "scan",
            Kind::Crowd => "crowd",
        }
    }

    /// The keys a table of this kind may have besides `kind`, `rate`, `start`, `stop` and
    /// `arrivals`.
    pub fn keys(self) -> &'static [&'static str] {
        match self {
            Kind::Web => &[
                "port",
                "duration",
                "request_bytes",
                "response_bytes",
                "clients",
            ],
            Kind::SynFlood => &["port", "sources", "synack"],
            Kind::Dns => &["server", "port", "clients"],
            Kind::Scan => &["source", "ports", "open"],
            Kind::Crowd => &["port", "clients", "request_bytes"],
        }
    }
}

/// When a traffic's connections (or packets) start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Arrivals {
    /// A Poisson process: exponential gaps with mean `1 / rate`.
    #[default]
    Poisson,
    /// Evenly spaced, `1 / rate` apart.
    Even,
}

/// How long each web connection lasts, in seconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Dist {
    Uniform {
        min: f64,
        max: f64,
    },
    /// Exponential with this mean, clamped to `[min, max]`.
    Exp {
        mean: f64,
        min: f64,
        max: f64,
    },
}

/// An IPv4 prefix to draw addresses from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prefix {
    pub base: u32,
    pub len: u8,
}

impl Prefix {
    pub fn parse(s: &str) -> Result<Prefix, String> {
        let (a, len) = match s.split_once('/') {
            Some((a, l)) => (
                a,
                l.trim()
                    .parse::<u8>()
                    .ok()
                    .filter(|l| *l <= 32)
                    .ok_or_else(|| format!("bad prefix length in {s:?}: want 0 to 32"))?,
            ),
            None => (s, 32),
        };
        let a: Ipv4Addr = a
            .trim()
            .parse()
            .map_err(|_| format!("{s:?} is not an IPv4 address or prefix (a.b.c.d/n)"))?;
        let mask = if len == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(len))
        };
        Ok(Prefix {
            base: u32::from(a) & mask,
            len,
        })
    }

    /// How many addresses it holds.
    pub fn size(self) -> u64 {
        1u64 << (32 - u32::from(self.len))
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", Ipv4Addr::from(self.base), self.len)
    }
}

/// What one `[[traffic]]` table makes.
#[derive(Clone, Debug, PartialEq)]
pub enum Spec {
    Web {
        port: u16,
        duration: Dist,
        request_bytes: u32,
        response_bytes: u32,
        clients: Prefix,
    },
    SynFlood {
        port: u16,
        sources: Prefix,
        synack: bool,
    },
    Dns {
        server: Ipv4Addr,
        port: u16,
        clients: Prefix,
    },
    Scan {
        source: Ipv4Addr,
        ports: Vec<u16>,
        open: Vec<u16>,
    },
    Crowd {
        port: u16,
        clients: Prefix,
        request_bytes: u32,
    },
}

/// One `[[traffic]]` table.
#[derive(Clone, Debug, PartialEq)]
pub struct Traffic {
    /// Connections (web, dns queries, crowd), SYNs (syn-flood) or probes (scan) per second.
    pub rate: f64,
    /// The traffic runs from `start` to `stop` seconds (defaults: 0 and the duration).
    pub start: f64,
    pub stop: f64,
    pub arrivals: Arrivals,
    /// Where its table starts in the file.
    pub line: usize,
    pub spec: Spec,
}

impl Traffic {
    pub fn kind(&self) -> Kind {
        match self.spec {
            Spec::Web { .. } => Kind::Web,
            Spec::SynFlood { .. } => Kind::SynFlood,
            Spec::Dns { .. } => Kind::Dns,
            Spec::Scan { .. } => Kind::Scan,
            Spec::Crowd { .. } => Kind::Crowd,
        }
    }

    /// A short label: `web tcp/80`, `dns udp/53 to 10.0.0.53`, `scan from 192.0.2.66`.
    pub fn label(&self) -> String {
        match &self.spec {
            Spec::Web { port, .. } => format!("web tcp/{port}"),
            Spec::SynFlood { port, sources, .. } => {
                format!("syn-flood tcp/{port} from {sources}")
            }
            Spec::Dns { server, port, .. } => format!("dns udp/{port} to {server}"),
            Spec::Scan { source, ports, .. } => {
                format!("scan of {} ports from {source}", ports.len())
            }
            Spec::Crowd { port, clients, .. } => format!("crowd tcp/{port} from {clients}"),
        }
    }
}

/// One `[settings]` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setting {
    pub key: String,
    pub value: String,
    pub line: usize,
    pub column: usize,
}

/// A traffic profile.
#[derive(Clone, Debug, PartialEq)]
pub struct Profile {
    /// The file name, for messages.
    pub file: String,
    /// Seconds.
    pub duration: f64,
    /// The generator's seed.
    pub seed: u64,
    /// The simulated host (`--local`).
    pub host: Ipv4Addr,
    pub settings: Vec<Setting>,
    pub traffic: Vec<Traffic>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    duration: Spanned<f64>,
    #[serde(default)]
    seed: Option<u64>,
    host: RawHost,
    #[serde(default)]
    settings: BTreeMap<String, Spanned<toml::Value>>,
    #[serde(default)]
    traffic: Vec<Spanned<RawTraffic>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHost {
    address: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDuration {
    dist: Option<String>,
    min: Option<f64>,
    max: Option<f64>,
    mean: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTraffic {
    kind: Spanned<Kind>,
    rate: Option<Spanned<f64>>,
    start: Option<Spanned<f64>>,
    stop: Option<Spanned<f64>>,
    arrivals: Option<Spanned<Arrivals>>,
    port: Option<Spanned<u16>>,
    duration: Option<Spanned<RawDuration>>,
    request_bytes: Option<Spanned<u32>>,
    response_bytes: Option<Spanned<u32>>,
    clients: Option<Spanned<String>>,
    sources: Option<Spanned<String>>,
    synack: Option<Spanned<bool>>,
    server: Option<Spanned<String>>,
    source: Option<Spanned<String>>,
    ports: Option<Spanned<String>>,
    open: Option<Spanned<String>>,
}

/// The largest payload a simulated request or response may have (1 GiB).
const MAX_BYTES: u32 = 1 << 30;

struct Ctx<'a> {
    file: &'a str,
    text: &'a str,
}

impl Ctx<'_> {
    fn at(&self, span: Range<usize>, message: impl Into<String>) -> ProfileError {
        let (line, column) = line_col(self.text, span.start);
        ProfileError {
            file: self.file.to_string(),
            line,
            column,
            message: message.into(),
        }
    }

    fn line(&self, span: &Range<usize>) -> usize {
        line_col(self.text, span.start).0
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..text.floor_char_boundary(offset)];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit_once('\n')
        .map_or(before, |(_, l)| l)
        .chars()
        .count()
        + 1;
    (line, col)
}

fn positive(ctx: &Ctx, v: &Spanned<f64>, what: &str) -> Result<f64, ProfileError> {
    let x = *v.get_ref();
    if x.is_finite() && x > 0.0 {
        Ok(x)
    } else {
        Err(ctx.at(
            v.span(),
            format!("{what} must be a positive number, not {x}"),
        ))
    }
}

fn ipv4(ctx: &Ctx, v: &Spanned<String>, what: &str) -> Result<Ipv4Addr, ProfileError> {
    v.get_ref().trim().parse().map_err(|_| {
        ctx.at(
            v.span(),
            format!("{what}: {:?} is not an IPv4 address", v.get_ref()),
        )
    })
}

fn prefix(ctx: &Ctx, v: Option<&Spanned<String>>, default: &str) -> Result<Prefix, ProfileError> {
    match v {
        None => Ok(Prefix::parse(default).expect("default prefixes parse")),
        Some(v) => Prefix::parse(v.get_ref()).map_err(|e| ctx.at(v.span(), e)),
    }
}

/// `"1-1024,8080"` to the ports, in order, without repeats.
fn port_list(ctx: &Ctx, v: &Spanned<String>) -> Result<Vec<u16>, ProfileError> {
    let bad = |part: &str| {
        ctx.at(
            v.span(),
            format!(
                "bad port list {:?} at {part:?}: want e.g. \"1-1024,8080\"",
                v.get_ref()
            ),
        )
    };
    let mut out = Vec::new();
    let mut seen = vec![false; 65536];
    for part in v.get_ref().split(',').map(str::trim) {
        if part.is_empty() {
            continue;
        }
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        let a: u16 = a.trim().parse().map_err(|_| bad(part))?;
        let b: u16 = b.trim().parse().map_err(|_| bad(part))?;
        if a == 0 || b < a {
            return Err(bad(part));
        }
        for p in a..=b {
            if !seen[usize::from(p)] {
                seen[usize::from(p)] = true;
                out.push(p);
            }
        }
    }
    if out.is_empty() {
        return Err(ctx.at(v.span(), "the port list is empty"));
    }
    Ok(out)
}

fn bytes(ctx: &Ctx, v: Option<&Spanned<u32>>, default: u32) -> Result<u32, ProfileError> {
    match v {
        None => Ok(default),
        Some(v) if *v.get_ref() <= MAX_BYTES => Ok(*v.get_ref()),
        Some(v) => Err(ctx.at(v.span(), format!("at most {MAX_BYTES} bytes"))),
    }
}

fn dist(ctx: &Ctx, v: Option<&Spanned<RawDuration>>) -> Result<Dist, ProfileError> {
    let Some(v) = v else {
        return Ok(Dist::Uniform {
            min: 0.05,
            max: 2.0,
        });
    };
    let d = v.get_ref();
    let err = |m: &str| ctx.at(v.span(), format!("duration: {m}"));
    let ok = |x: f64| x.is_finite() && x > 0.0;
    let exp = match d.dist.as_deref() {
        Some("uniform") => false,
        Some("exp") => true,
        Some(o) => return Err(err(&format!("dist {o:?}: want \"uniform\" or \"exp\""))),
        None => d.mean.is_some(),
    };
    if exp {
        let mean = d.mean.ok_or_else(|| err("\"exp\" needs a mean"))?;
        let (min, max) = (d.min.unwrap_or(0.001), d.max.unwrap_or(f64::MAX));
        if !ok(mean) || !ok(min) || max.is_nan() || max < min {
            return Err(err("want 0 < mean, 0 < min <= max"));
        }
        Ok(Dist::Exp { mean, min, max })
    } else {
        if d.mean.is_some() {
            return Err(err("a uniform duration takes min and max, not mean"));
        }
        let (Some(min), Some(max)) = (d.min, d.max) else {
            return Err(err(
                "want { min = SECONDS, max = SECONDS } or { dist = \"exp\", mean = SECONDS }",
            ));
        };
        if !ok(min) || max.is_nan() || max < min || !max.is_finite() {
            return Err(err("want 0 < min <= max"));
        }
        Ok(Dist::Uniform { min, max })
    }
}

impl Profile {
    /// Reads and checks a profile file.
    pub fn load(path: impl AsRef<Path>) -> Result<Profile, ProfileError> {
        let path = path.as_ref();
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ProfileError {
            file: file.clone(),
            line: 0,
            column: 0,
            message: e.to_string(),
        })?;
        Profile::parse(&file, &text)
    }

    /// Checks a profile's text; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Profile, ProfileError> {
        let ctx = Ctx { file, text };
        let raw: RawProfile = toml::from_str(text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            ctx.at(span, e.message().trim_end().to_string())
        })?;
        let duration = positive(&ctx, &raw.duration, "duration")?;
        let host = ipv4(&ctx, &raw.host.address, "host.address")?;
        let mut settings = Vec::new();
        for (key, v) in &raw.settings {
            let value = match v.get_ref() {
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::String(s) => s.clone(),
                toml::Value::Boolean(b) => u8::from(*b).to_string(),
                other => {
                    return Err(ctx.at(
                        v.span(),
                        format!(
                            "settings.{key:?}: want a number or a string, not a {}",
                            other.type_str()
                        ),
                    ));
                }
            };
            let (line, column) = line_col(text, v.span().start);
            settings.push(Setting {
                key: key.clone(),
                value,
                line,
                column,
            });
        }
        let mut profile = Profile {
            file: file.to_string(),
            duration,
            seed: raw.seed.unwrap_or(1),
            host,
            settings,
            traffic: Vec::new(),
        };
        // The settings are checked now, so that a bad key is reported with the rest.
        profile.sysctl(Sysctl::default())?;
        if raw.traffic.is_empty() {
            return Err(ctx.at(0..0, "no [[traffic]] table: nothing to simulate"));
        }
        for t in &raw.traffic {
            profile.traffic.push(traffic(&ctx, t, duration, host)?);
        }
        Ok(profile)
    }

    /// `base` with the profile's `[settings]` applied, as `sysctl -p` would apply them.
    pub fn sysctl(&self, base: Sysctl) -> Result<Sysctl, ProfileError> {
        let mut text = String::new();
        for s in &self.settings {
            text.push_str(&format!("{} = {}\n", s.key, s.value));
        }
        let parsed = conf::parse(&self.file, &text);
        let mut out = base;
        let here = |line: usize, message: String| {
            let s = line.checked_sub(1).and_then(|i| self.settings.get(i));
            ProfileError {
                file: self.file.clone(),
                line: s.map_or(0, |s| s.line),
                column: s.map_or(0, |s| s.column),
                message,
            }
        };
        // A profile is stricter than sysctl -p: a warning (an unknown key) is an error too.
        let diags = match out.apply_conf(&parsed) {
            Ok(notes) if notes.iter().all(|d| d.severity == conf::Severity::Notice) => {
                return Ok(out);
            }
            Ok(diags) | Err(diags) => diags,
        };
        let worst = |s| diags.iter().find(|d| d.severity == s);
        let d = worst(conf::Severity::Error)
            .or_else(|| worst(conf::Severity::Warning))
            .expect("a warning or an error");
        let key = d
            .line
            .checked_sub(1)
            .and_then(|i| self.settings.get(i))
            .map_or(String::new(), |s| format!("settings {:?}: ", s.key));
        Err(here(d.line, format!("{key}{}", d.message)))
    }
}

fn traffic(
    ctx: &Ctx,
    t: &Spanned<RawTraffic>,
    duration: f64,
    host: Ipv4Addr,
) -> Result<Traffic, ProfileError> {
    let span = t.span();
    let r = t.get_ref();
    let kind = *r.kind.get_ref();
    let present: [(&str, Option<Range<usize>>); 11] = [
        ("port", r.port.as_ref().map(Spanned::span)),
        ("duration", r.duration.as_ref().map(Spanned::span)),
        ("request_bytes", r.request_bytes.as_ref().map(Spanned::span)),
        (
            "response_bytes",
            r.response_bytes.as_ref().map(Spanned::span),
        ),
        ("clients", r.clients.as_ref().map(Spanned::span)),
        ("sources", r.sources.as_ref().map(Spanned::span)),
        ("synack", r.synack.as_ref().map(Spanned::span)),
        ("server", r.server.as_ref().map(Spanned::span)),
        ("source", r.source.as_ref().map(Spanned::span)),
        ("ports", r.ports.as_ref().map(Spanned::span)),
        ("open", r.open.as_ref().map(Spanned::span)),
    ];
    for (key, at) in present {
        if let Some(at) = at
            && !kind.keys().contains(&key)
        {
            return Err(ctx.at(
                at,
                format!(
                    "`{key}` does not apply to kind \"{}\" (its keys: rate, start, stop, arrivals, {})",
                    kind.name(),
                    kind.keys().join(", ")
                ),
            ));
        }
    }
    let rate = match &r.rate {
        Some(v) => positive(ctx, v, "rate")?,
        None => {
            return Err(ctx.at(
                r.kind.span(),
                format!("kind \"{}\" needs a rate", kind.name()),
            ));
        }
    };
    let start = match &r.start {
        Some(v) if v.get_ref().is_finite() && *v.get_ref() >= 0.0 => *v.get_ref(),
        Some(v) => return Err(ctx.at(v.span(), "start: want seconds >= 0")),
        None => 0.0,
    };
    let stop = match &r.stop {
        Some(v) if v.get_ref().is_finite() && *v.get_ref() > start => v.get_ref().min(duration),
        Some(v) => return Err(ctx.at(v.span(), "stop: want seconds after start")),
        None => duration,
    };
    let port = |default: u16| -> Result<u16, ProfileError> {
        match &r.port {
            Some(p) if *p.get_ref() == 0 => Err(ctx.at(p.span(), "port 0")),
            Some(p) => Ok(*p.get_ref()),
            None => Ok(default),
        }
    };
    let spec = match kind {
        Kind::Web => Spec::Web {
            port: port(80)?,
            duration: dist(ctx, r.duration.as_ref())?,
            request_bytes: bytes(ctx, r.request_bytes.as_ref(), 100)?,
            response_bytes: bytes(ctx, r.response_bytes.as_ref(), 1000)?,
            clients: prefix(ctx, r.clients.as_ref(), "198.51.100.0/24")?,
        },
        Kind::SynFlood => Spec::SynFlood {
            port: port(80)?,
            sources: prefix(ctx, r.sources.as_ref(), "0.0.0.0/0")?,
            synack: r.synack.as_ref().is_none_or(|s| *s.get_ref()),
        },
        Kind::Dns => Spec::Dns {
            server: match &r.server {
                Some(s) => ipv4(ctx, s, "server")?,
                None => host,
            },
            port: port(53)?,
            clients: prefix(ctx, r.clients.as_ref(), "198.51.100.0/24")?,
        },
        Kind::Scan => Spec::Scan {
            source: match &r.source {
                Some(s) => ipv4(ctx, s, "source")?,
                None => Ipv4Addr::new(192, 0, 2, 66),
            },
            ports: match &r.ports {
                Some(p) => port_list(ctx, p)?,
                None => (1..=1024).collect(),
            },
            open: match &r.open {
                Some(p) => port_list(ctx, p)?,
                None => Vec::new(),
            },
        },
        Kind::Crowd => Spec::Crowd {
            port: port(80)?,
            clients: prefix(ctx, r.clients.as_ref(), "203.0.113.0/24")?,
            request_bytes: bytes(ctx, r.request_bytes.as_ref(), 60)?,
        },
    };
    Ok(Traffic {
        rate,
        start,
        stop,
        arrivals: r
            .arrivals
            .as_ref()
            .map_or_else(Arrivals::default, |a| *a.get_ref()),
        line: ctx.line(&span),
        spec,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column() {
        assert_eq!(line_col("ab\ncd", 0), (1, 1));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
    }

    #[test]
    fn prefixes() {
        assert_eq!(
            Prefix::parse("10.1.2.3/8"),
            Ok(Prefix {
                base: 0x0a00_0000,
                len: 8
            })
        );
        assert_eq!(Prefix::parse("0.0.0.0/0").map(Prefix::size), Ok(1 << 32));
        assert!(Prefix::parse("10.0.0.0/33").is_err());
    }
}
