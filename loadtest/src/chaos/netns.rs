//! Network namespaces with veth links, so a partition is a real one: the
//! kernel drops the packets, TCP retransmits into the void, and neither side
//! is told. Shared by `loadtest chaos` and the fault tests (which include this
//! file with `#[path]`), so it uses only `std` and `anyhow`.
//!
//! A [`Netns`] is one "host" (a server node). Each [`Link`] is a veth pair
//! with a private /30 of 10.213.0.0/16: the host side (`.1` of the /30) stays
//! in the root namespace, where the private PostgreSQL, redis-server and the
//! load generator listen or connect; the peer side (`.2`) is inside. One link
//! per kind of traffic (HTTP, PostgreSQL, Redis) lets a fault cut exactly one
//! path: `ip link set <host side> down` is the cut, `up` the heal. Static
//! neighbour entries keep ARP out of it, so a cut drops packets silently
//! (connects hang, like a real partition) instead of failing fast with
//! "no route to host".
//!
//! Everything is removed on drop: deleting the namespace deletes its veths.

#![allow(dead_code)]

use std::{
    net::Ipv4Addr,
    process::{Command, Stdio},
    sync::{
        Mutex,
        atomic::{AtomicU32, Ordering},
    },
    time::{SystemTime, UNIX_EPOCH},
};

use anyhow::{Context, bail};

/// Runs `ip` with `args`; an error carries its stderr.
pub fn ip(args: &[&str]) -> anyhow::Result<String> {
    let output = Command::new("ip")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running `ip {}` (is iproute2 installed?)", args.join(" ")))?;
    if !output.status.success() {
        bail!("`ip {}` failed: {}", args.join(" "), String::from_utf8_lossy(&output.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Why namespaces cannot be used here, or `None` when they can (root and
/// iproute2 present).
pub fn unavailable_reason() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let uid = status.lines().find(|l| l.starts_with("Uid:")).and_then(|l| l.split_whitespace().nth(1));
    if uid != Some("0") {
        return Some("not running as root (network namespaces need CAP_NET_ADMIN)".into());
    }
    if ip(&["-V"]).is_err() {
        return Some("`ip` (iproute2) is not installed".into());
    }
    None
}

/// A pseudo-random 32-bit value, different per call and per process, for
/// names that must not collide with a concurrently running test.
fn unique() -> u32 {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    (std::process::id().wrapping_mul(2_654_435_761) ^ nanos ^ n.wrapping_mul(40_503)).rotate_left(n % 32)
}

/// One veth pair: `host` side in the root namespace, `peer` side inside.
#[derive(Clone, Debug)]
pub struct Link {
    pub host_dev: String,
    pub peer_dev: String,
    /// The root namespace's address on this link (listen here).
    pub host_addr: Ipv4Addr,
    /// The namespace's address on this link (bind servers here).
    pub peer_addr: Ipv4Addr,
    host_mac: String,
}

impl Link {
    /// Cuts the link: every packet either way is dropped from now on.
    pub fn cut(&self) -> anyhow::Result<()> {
        ip(&["link", "set", &self.host_dev, "down"]).map(drop)
    }

    /// Heals the link (bringing a device down flushed its neighbour entry,
    /// so it is set again).
    pub fn heal(&self, ns: &Netns) -> anyhow::Result<()> {
        ip(&["link", "set", &self.host_dev, "up"])?;
        self.pin_neighbours(ns)
    }

    fn pin_neighbours(&self, ns: &Netns) -> anyhow::Result<()> {
        let peer_mac = ip(&["-n", &ns.name, "-br", "link", "show", &self.peer_dev])?;
        let peer_mac = peer_mac.split_whitespace().nth(2).context("peer MAC address")?.to_owned();
        ip(&[
            "neigh",
            "replace",
            &self.peer_addr.to_string(),
            "lladdr",
            &peer_mac,
            "dev",
            &self.host_dev,
            "nud",
            "permanent",
        ])?;
        ip(&[
            "-n",
            &ns.name,
            "neigh",
            "replace",
            &self.host_addr.to_string(),
            "lladdr",
            &self.host_mac,
            "dev",
            &self.peer_dev,
            "nud",
            "permanent",
        ])
        .map(drop)
    }
}

/// A network namespace `jbm-<hex>`, deleted (with its veths) on drop.
pub struct Netns {
    pub name: String,
    tag: String,
    links: Vec<Link>,
}

/// The /30 blocks in use by this process, so two namespaces made at once
/// never share addresses.
static TAKEN: Mutex<Vec<(u8, u8)>> = Mutex::new(Vec::new());

impl Netns {
    pub fn create() -> anyhow::Result<Self> {
        let tag = format!("{:06x}", unique() & 0xff_ffff);
        let name = format!("jbm-{tag}");
        ip(&["netns", "add", &name])?;
        let ns = Netns { name, tag, links: Vec::new() };
        ip(&["-n", &ns.name, "link", "set", "lo", "up"])?;
        Ok(ns)
    }

    /// Adds a veth link and returns it. Addresses come from a /30 of
    /// 10.213.0.0/16 that no interface on this machine uses yet.
    pub fn add_link(&mut self) -> anyhow::Result<Link> {
        let index = self.links.len();
        let host_dev = format!("j{}h{index}", self.tag);
        let peer_dev = format!("j{}p{index}", self.tag);
        let (third, fourth) = {
            let mut taken = TAKEN.lock().unwrap_or_else(|e| e.into_inner());
            let in_use = ip(&["-o", "-4", "addr", "show"])?;
            let mut seed = unique();
            loop {
                let candidate = ((seed >> 8) as u8, ((seed & 0x3f) as u8) * 4);
                let prefix = format!("inet 10.213.{}.{} ", candidate.0, candidate.1 + 1);
                if !taken.contains(&candidate) && !in_use.contains(&prefix) {
                    taken.push(candidate);
                    break candidate;
                }
                seed = unique();
            }
        };
        let host_addr = Ipv4Addr::new(10, 213, third, fourth + 1);
        let peer_addr = Ipv4Addr::new(10, 213, third, fourth + 2);
        ip(&["link", "add", &host_dev, "type", "veth", "peer", "name", &peer_dev])?;
        ip(&["link", "set", &peer_dev, "netns", &self.name])?;
        ip(&["addr", "add", &format!("{host_addr}/30"), "dev", &host_dev])?;
        ip(&["link", "set", &host_dev, "up"])?;
        ip(&["-n", &self.name, "addr", "add", &format!("{peer_addr}/30"), "dev", &peer_dev])?;
        ip(&["-n", &self.name, "link", "set", &peer_dev, "up"])?;
        let host_mac = ip(&["-br", "link", "show", &host_dev])?;
        let host_mac = host_mac.split_whitespace().nth(2).context("host MAC address")?.to_owned();
        let link = Link { host_dev, peer_dev, host_addr, peer_addr, host_mac };
        link.pin_neighbours(self)?;
        self.links.push(link.clone());
        Ok(link)
    }

    /// A command that runs `program` inside this namespace.
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.name, program]);
        command
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = ip(&["netns", "del", &self.name]);
        // A veth whose peer went with the namespace is gone too; this only
        // matters if the peer never made it inside.
        for link in &self.links {
            let _ = ip(&["link", "del", &link.host_dev]);
        }
        let mut taken = TAKEN.lock().unwrap_or_else(|e| e.into_inner());
        taken.retain(|(third, fourth)| {
            !self.links.iter().any(|l| l.host_addr.octets()[2] == *third && l.host_addr.octets()[3] == fourth + 1)
        });
    }
}
