//! Reading CPU time and memory of a process, and of the whole machine, from `/proc`.
//!
//! Linux only, no `unsafe`: the clock-tick rate comes from the auxiliary vector
//! (`/proc/self/auxv`, `AT_CLKTCK`) instead of `sysconf`.

use std::time::Instant;

/// `AT_CLKTCK` in the ELF auxiliary vector.
const AT_CLKTCK: u64 = 17;

/// Clock ticks per second for `/proc/<pid>/stat` times (almost always 100).
pub fn clock_ticks_per_second() -> u64 {
    let Ok(bytes) = std::fs::read("/proc/self/auxv") else {
        return 100;
    };
    for pair in bytes.chunks_exact(16) {
        let key = u64::from_ne_bytes(pair[..8].try_into().unwrap_or([0; 8]));
        let value = u64::from_ne_bytes(pair[8..].try_into().unwrap_or([0; 8]));
        if key == AT_CLKTCK && value > 0 {
            return value;
        }
    }
    100
}

/// User plus system CPU time of `pid` (or `self`), in clock ticks.
pub fn cpu_ticks(pid: Option<u32>) -> Option<u64> {
    let path = match pid {
        Some(p) => format!("/proc/{p}/stat"),
        None => "/proc/self/stat".to_string(),
    };
    let stat = std::fs::read_to_string(path).ok()?;
    // The command name (field 2) may contain spaces: fields are counted after its ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// CPU ticks of each thread of `pid`: `(thread id, thread name, ticks)`.
pub fn thread_ticks(pid: u32) -> Vec<(u32, String, u64)> {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in dir.flatten() {
        let Some(tid) = entry.file_name().to_str().and_then(|t| t.parse().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let name = stat[open + 1..close].to_string();
        let fields: Vec<&str> = stat[close + 2..].split_whitespace().collect();
        let ticks = fields
            .get(11)
            .and_then(|u| u.parse::<u64>().ok())
            .unwrap_or(0)
            + fields
                .get(12)
                .and_then(|s| s.parse::<u64>().ok())
                .unwrap_or(0);
        out.push((tid, name, ticks));
    }
    out
}

/// Resident set size of `pid` (or `self`), in KiB.
pub fn rss_kib(pid: Option<u32>) -> Option<u64> {
    let path = match pid {
        Some(p) => format!("/proc/{p}/status"),
        None => "/proc/self/status".to_string(),
    };
    let status = std::fs::read_to_string(path).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Busy and total ticks of the whole machine (all cores), from `/proc/stat`.
pub fn machine_ticks() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let v: Vec<u64> = line
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    let total: u64 = v.iter().take(8).sum();
    let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
    Some((total - idle, total))
}

/// A CPU reading to diff against later.
#[derive(Clone, Debug)]
pub struct CpuSnapshot {
    at: Instant,
    server: Option<u64>,
    me: Option<u64>,
    machine: Option<(u64, u64)>,
    threads: Vec<(u32, String, u64)>,
}

/// CPU use between two snapshots, in cores (1.0 = one core fully busy).
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct CpuUse {
    pub server_cores: Option<f64>,
    pub loadgen_cores: Option<f64>,
    /// Busy fraction of the whole machine, 0 to 1.
    pub machine_busy: Option<f64>,
    /// The server's busiest threads: name (cut at 15 bytes by the kernel), id, cores.
    pub server_threads: Vec<(String, u32, f64)>,
}

impl CpuSnapshot {
    pub fn take(server_pid: Option<u32>) -> Self {
        Self {
            at: Instant::now(),
            server: server_pid.and_then(|p| cpu_ticks(Some(p))),
            me: cpu_ticks(None),
            machine: machine_ticks(),
            threads: server_pid.map(thread_ticks).unwrap_or_default(),
        }
    }

    /// CPU used from `self` to `later`.
    pub fn until(&self, later: &CpuSnapshot) -> CpuUse {
        let secs = later.at.duration_since(self.at).as_secs_f64().max(1e-6);
        let hz = clock_ticks_per_second() as f64;
        let cores = |a: Option<u64>, b: Option<u64>| Some(b?.saturating_sub(a?) as f64 / hz / secs);
        let machine_busy = match (self.machine, later.machine) {
            (Some((b0, t0)), Some((b1, t1))) if t1 > t0 => {
                Some(b1.saturating_sub(b0) as f64 / (t1 - t0) as f64)
            }
            _ => None,
        };
        let mut server_threads: Vec<(String, u32, f64)> = later
            .threads
            .iter()
            .map(|(tid, name, ticks)| {
                let before = self
                    .threads
                    .iter()
                    .find(|(t, _, _)| t == tid)
                    .map(|(_, _, b)| *b)
                    .unwrap_or(0);
                let used = ticks.saturating_sub(before) as f64 / hz / secs;
                (name.clone(), *tid, used)
            })
            .filter(|(_, _, c)| *c >= 0.01)
            .collect();
        server_threads.sort_by(|a, b| b.2.total_cmp(&a.2));
        server_threads.truncate(6);
        CpuUse {
            server_threads,
            server_cores: cores(self.server, later.server),
            loadgen_cores: cores(self.me, later.me),
            machine_busy,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_own_process() {
        assert!(clock_ticks_per_second() >= 1);
        assert!(cpu_ticks(None).is_some());
        assert!(rss_kib(None).unwrap() > 0);
        let (busy, total) = machine_ticks().unwrap();
        assert!(busy <= total);
    }
}
