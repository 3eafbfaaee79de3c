//! Test scaffolding: every test plays "host" inside a network namespace of
//! its own, so bridges, veths, routes and nft tables never touch the real
//! host, and removing the namespaces removes everything in them.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use husk_network::netns::{with_netns, NetnsGuard};
use husk_network::{
    BridgeDriver, Endpoint, Firewall, Netlink, Network, NetworkDriver, NetworkStore, SetupRequest,
};

pub use husk_fixtures::TestNetns;

/// A test host: its own netns (entered by the test thread for the life of
/// the scenario), store dir, bridge network and firewall.
pub struct Scenario {
    guard: Option<NetnsGuard>,
    pub driver: BridgeDriver,
    pub store: NetworkStore,
    pub host: TestNetns,
    pub dir: tempfile::TempDir,
}

impl Scenario {
    /// None (after printing a SKIP line) when this machine lacks root or
    /// nftables in its kernel; panics on any other failure.
    pub fn new(test: &str, subnet: &str) -> Option<Scenario> {
        if !husk_fixtures::is_root() {
            husk_fixtures::skip(test, "needs root");
            return None;
        }
        let host = TestNetns::new("host");
        host.lo_up();
        let guard = NetnsGuard::enter(&host.path).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let store = NetworkStore::open(dir.path()).unwrap();
        let network = Network::bridge("bridge", "husk0", subnet.parse().unwrap()).unwrap();
        let firewall = Firewall::new("husk", dir.path());
        if let Err(e) = firewall.check_available() {
            // Only a kernel without nf_tables may skip: any other failure of
            // the probe (nft missing, a parse error, a bug) fails the test.
            if let Some(fact) = husk_fixtures::kernel_lacks("CONFIG_NF_TABLES") {
                husk_fixtures::skip(test, &fact);
                return None;
            }
            panic!("{test}: nft probe failed on a kernel with nf_tables (apt-get install nftables?): {e}");
        }
        let driver = BridgeDriver::new(&store, network, firewall);
        Some(Scenario {
            guard: Some(guard),
            driver,
            store,
            host,
            dir,
        })
    }

    pub fn network(&self) -> &Network {
        self.driver.network()
    }

    pub fn firewall(&self) -> Firewall {
        Firewall::new("husk", self.dir.path())
    }

    pub fn setup(
        &self,
        id: &str,
        ns: &TestNetns,
        ports: &[&str],
    ) -> husk_network::Result<Endpoint> {
        self.driver.setup(&request(id, ns, ports, None))
    }

    /// Host veths that are still there.
    pub fn host_veths(&self) -> Vec<String> {
        let mut nl = Netlink::new().unwrap();
        nl.links()
            .unwrap()
            .into_iter()
            .map(|l| l.name)
            .filter(|n| n.starts_with("veth") || n.starts_with("hp"))
            .collect()
    }

    pub fn gc(&self, live: &[&str]) -> husk_network::GcReport {
        let live: BTreeSet<String> = live.iter().map(|s| s.to_string()).collect();
        self.driver.gc(&live).unwrap()
    }
}

impl Drop for Scenario {
    fn drop(&mut self) {
        if let Some(g) = self.guard.take() {
            let _ = g.leave();
        }
        // Everything else lived inside `host` (and the container netnses the
        // test owns), which go away with their guards.
    }
}

pub fn request(id: &str, ns: &TestNetns, ports: &[&str], ip: Option<Ipv4Addr>) -> SetupRequest {
    SetupRequest {
        container_id: id.to_string(),
        netns: ns.path.clone(),
        ip,
        ip6: None,
        mac: None,
        ports: ports
            .iter()
            .flat_map(|p| husk_network::parse_port_spec(p).unwrap())
            .collect(),
        extra: None,
    }
}

/// A container-like id: 64 hex digits, the first 7 unique in this process.
pub fn container_id() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let n = (u64::from(std::process::id()) * 4096 + u64::from(n)) & 0xfff_ffff;
    format!("{n:07x}{:057x}", 0xc0ffee)
}

/// A TCP listener created inside `ns` (it stays there).
pub fn listen_in(ns: &Path, addr: &str) -> TcpListener {
    with_netns(ns, || {
        TcpListener::bind(addr).map_err(|e| husk_network::Error::Io {
            op: "bind",
            path: PathBuf::from(addr),
            source: e,
        })
    })
    .unwrap()
}

/// Serves `n` connections on another thread: each gets the peer address
/// written back to it. Returns the peers seen.
pub fn serve(listener: TcpListener, n: usize) -> std::thread::JoinHandle<Vec<SocketAddr>> {
    std::thread::spawn(move || {
        let mut peers = Vec::new();
        for _ in 0..n {
            let Ok((mut s, peer)) = listener.accept() else {
                break;
            };
            let _ = s.write_all(peer.ip().to_string().as_bytes());
            peers.push(peer);
        }
        peers
    })
}

/// Connects from the calling thread's netns (or `ns`) and reads the reply.
pub fn fetch(ns: Option<&Path>, addr: &str) -> std::io::Result<String> {
    let addr: SocketAddr = addr.parse().unwrap();
    let connect = || {
        TcpStream::connect_timeout(&addr, Duration::from_secs(3)).map_err(|e| {
            husk_network::Error::Io {
                op: "connect",
                path: PathBuf::from(addr.to_string()),
                source: e,
            }
        })
    };
    let stream = match ns {
        Some(ns) => with_netns(ns, connect),
        None => connect(),
    };
    let mut s = stream.map_err(|e| std::io::Error::other(e.to_string()))?;
    s.set_read_timeout(Some(Duration::from_secs(3)))?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out)
}
