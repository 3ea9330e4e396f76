//! The router's conntrack table and statistics: flush, read `/proc/net/nf_conntrack`, and
//! `conntrack -S` summed over CPUs.

use std::io;

use crate::netns::Netns;

/// Empties the table (`conntrack -F`) and checks that it stays empty.
pub fn flush(router: &Netns) -> io::Result<()> {
    for _ in 0..50 {
        router.command("conntrack", &["-F"], None)?;
        if entries(router)?.is_empty() {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    Err(io::Error::other(format!(
        "the table in {} does not stay empty after a flush: is something sending?",
        router.name
    )))
}

/// `/proc/net/nf_conntrack` in the router, sorted.
pub fn entries(router: &Netns) -> io::Result<Vec<String>> {
    let text = router.read_to_string("/proc/thread-self/net/nf_conntrack")?;
    let mut lines: Vec<String> = text
        .lines()
        .map(|l| l.trim_end().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    lines.sort();
    Ok(lines)
}

/// `conntrack -S`, summed over CPUs, counters in the kernel's order.
pub fn stats(router: &Netns) -> io::Result<Vec<(String, u64)>> {
    let output = router.command("conntrack", &["-S"], None)?;
    parse_stats(&String::from_utf8_lossy(&output.stdout)).map_err(io::Error::other)
}

fn parse_stats(text: &str) -> Result<Vec<(String, u64)>, String> {
    let mut sums: Vec<(String, u64)> = Vec::new();
    for line in text.lines() {
        for pair in line.split_whitespace() {
            let Some((key, value)) = pair.split_once('=') else {
                continue;
            };
            if key == "cpu" {
                continue;
            }
            let value: u64 = value
                .parse()
                .map_err(|_| format!("conntrack -S: bad value in `{pair}`"))?;
            match sums.iter_mut().find(|(k, _)| k == key) {
                Some((_, sum)) => *sum += value,
                None => sums.push((key.to_string(), value)),
            }
        }
    }
    if sums.is_empty() {
        return Err("conntrack -S printed no counters".into());
    }
    Ok(sums)
}

/// `after - before`, key by key.
pub fn difference(before: &[(String, u64)], after: &[(String, u64)]) -> Vec<(String, u64)> {
    after
        .iter()
        .map(|(key, a)| {
            let b = before.iter().find(|(k, _)| k == key).map_or(0, |(_, v)| *v);
            (key.clone(), a.saturating_sub(b))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_over_cpus() {
        let text = "cpu=0   \tfound=0 invalid=3 insert=0 drop=2 \ncpu=1   \tfound=1 invalid=1 insert=0 drop=0 \n";
        let sums = parse_stats(text).unwrap();
        assert_eq!(
            sums,
            vec![
                ("found".to_string(), 1),
                ("invalid".to_string(), 4),
                ("insert".to_string(), 0),
                ("drop".to_string(), 2)
            ]
        );
        let later = vec![("found".to_string(), 3), ("drop".to_string(), 2)];
        assert_eq!(
            difference(&sums, &later),
            vec![("found".to_string(), 2), ("drop".to_string(), 0)]
        );
    }
}
