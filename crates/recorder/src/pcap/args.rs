//! `ctguard-record pcap …` arguments.

use std::path::PathBuf;

use crate::pcap::sides::Ipv4Prefix;

pub struct PcapArgs {
    pub prefix: String,
    pub topology: PathBuf,
    pub runs: u32,
    pub server: Ipv4Prefix,
    pub rules: PathBuf,
    pub sysctl: Option<PathBuf>,
    pub out: PathBuf,
    pub pcap: PathBuf,
    /// Legitimate clients: their connections completed (every frame forwarded) are counted.
    pub clients: Vec<ctguard_replay::clients::Prefix>,
}

const MAX_RUNS: u32 = 100;

/// Parses the arguments after `pcap`.
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<PcapArgs, String> {
    let mut prefix = "ctg".to_string();
    let (mut topology, mut server, mut rules, mut sysctl, mut out, mut pcap) =
        (None, None, None, None, None, None);
    let mut runs = 3;
    let mut clients = Vec::new();
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "-h" | "--help" => return Err(String::new()),
            "--prefix" => prefix = value("--prefix")?,
            "--topology" => topology = Some(value("--topology")?.into()),
            "--runs" => {
                runs = value("--runs")?
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_RUNS).contains(n))
                    .ok_or(format!("--runs takes 1–{MAX_RUNS}"))?;
            }
            "--server" => server = Some(value("--server")?.parse::<Ipv4Prefix>()?),
            "--rules" => rules = Some(value("--rules")?.into()),
            "--sysctl" => sysctl = Some(value("--sysctl")?.into()),
            "--out" => out = Some(value("--out")?.into()),
            "--clients" => clients.push(value("--clients")?.parse()?),
            _ if arg.starts_with('-') => return Err(format!("unknown option {arg}")),
            _ if pcap.is_some() => return Err("pcap mode takes one capture".into()),
            _ => pcap = Some(arg.into()),
        }
    }
    let plain = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    if prefix.is_empty() || prefix.len() > 20 || !prefix.chars().all(plain) {
        return Err("--prefix takes up to 20 letters, digits, `-` or `_`".into());
    }
    let need = |name: &str| format!("pcap mode needs {name}");
    Ok(PcapArgs {
        prefix,
        topology: topology.ok_or_else(|| need("--topology (fresh namespaces every run)"))?,
        runs,
        server: server.ok_or_else(|| need("--server PREFIX"))?,
        rules: rules.ok_or_else(|| need("--rules FILE"))?,
        sysctl,
        out: out.ok_or_else(|| need("--out DIR"))?,
        pcap: pcap.ok_or_else(|| need("a capture (PCAP)"))?,
        clients,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn parses_the_pcap_mode() {
        let a = parse(words(
            "--topology t.sh --runs 2 --server 10.99.2.0/24 --rules f.rules --sysctl f.sysctl --out o x.pcap",
        ))
        .unwrap();
        assert_eq!((a.prefix.as_str(), a.runs), ("ctg", 2));
        assert_eq!(a.pcap, PathBuf::from("x.pcap"));
        assert_eq!(a.sysctl, Some(PathBuf::from("f.sysctl")));
        assert!(a.clients.is_empty());
        let c = parse(words(
            "--topology t --server 10.99.2.0/24 --rules r --out o --clients 10.98.1.0/24 x",
        ))
        .unwrap();
        assert_eq!(c.clients, ["10.98.1.0/24".parse().unwrap()]);
        let base = "--topology t --server 10.99.2.0/24 --rules r --out o";
        assert_eq!(parse(words(&format!("{base} x"))).unwrap().runs, 3);
        for bad in [
            "--server 10.99.2.0/24 --rules r --out o x",
            base,
            &format!("{base} x y"),
            &format!("{base} --runs 0 x"),
            &format!("{base} --prefix a/b x"),
            &format!("{base} --server 10.99.2.0/40 x"),
            &format!("{base} --clients 10.98.1.0/99 x"),
        ] {
            assert!(parse(words(bad)).is_err(), "{bad}");
        }
    }
}
