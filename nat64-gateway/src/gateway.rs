//! The gateway: its [`Settings`] checked, the runtime ([`crate::runtime`])
//! over one of the two packet ports ([`crate::tun`], [`crate::afpacket`]),
//! the control socket and the metrics endpoint, and the threads running
//! them; reload and shutdown, with the device's addresses and routes (or the
//! AF_PACKET adapter's blackhole routes).

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crate::afpacket::AfPacketPort;
use crate::control::{self, Request, Response, Stats};
pub use crate::error::GatewayError;
use crate::lock;
use crate::log::Level;
use crate::port::PacketPort;
use crate::runtime::{self, Runtime};
use crate::settings::{Adapter, Mode, Settings, Xlat};
use crate::tun::TunPort;
use crate::{log, metrics, netconf};

/// How the gateway meets the network.
enum Port {
    Tun(TunPort),
    AfPacket(Box<AfPacketPort>),
}

/// A running gateway.
pub struct Gateway {
    device: String,
    settings: Mutex<Settings>,
    rt: Runtime,
    port: Port,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("mode", &self.mode())
            .field("device", &self.device)
            .finish_non_exhaustive()
    }
}

impl Gateway {
    /// Checks the settings, opens and configures the TUN device (or the
    /// AF_PACKET rings and the blackhole routes), binds the control socket
    /// and the metrics endpoint, and starts the threads.
    pub fn start(mut s: Settings) -> Result<Arc<Gateway>, GatewayError> {
        for note in fit_mtus(&mut s)? {
            log!(Level::Info, "mtu_lowered", note = note);
        }
        if s.device.workers == 0 || s.device.workers > 64 {
            return Err(GatewayError::Invalid {
                key: "workers",
                why: format!(
                    "{} workers; give 1 to 64 (one per core is a good start)",
                    s.device.workers
                ),
            });
        }
        if s.device.mtu < 1280 || s.device.mtu > 65535 {
            return Err(GatewayError::Invalid {
                key: "mtu",
                why: format!("{}; the TUN device carries IPv6, so 1280 to 65535", s.device.mtu),
            });
        }
        let n = s.device.workers;
        // The configuration first: nothing on the system changes if it is wrong.
        let rt = Runtime::new(s.mode, &s.xlat, &s.clients, s.icmp_rate, n)?;
        let (port, device) = match &s.adapter {
            Adapter::Tun => {
                let t = TunPort::open(&mut s.device)?;
                let device = t.device().to_owned();
                (Port::Tun(t), device)
            }
            Adapter::AfPacket { ipv6, ipv4 } => {
                if s.mode == Mode::Clat {
                    return Err(GatewayError::Invalid {
                        key: "adapter",
                        why: "a CLAT translates the host's own IPv4 traffic, which only a TUN device receives; use adapter = \"tun\"".into(),
                    });
                }
                let p = AfPacketPort::open(ipv6, ipv4, n)?;
                let device = format!("{}+{}", ipv6.interface, ipv4.interface);
                (Port::AfPacket(Box::new(p)), device)
            }
        };
        let off = netconf::forwarding_off();
        if !off.is_empty() && matches!(port, Port::Tun(_)) {
            log!(
                Level::Warn,
                "forwarding_off",
                sysctls = off.join(","),
                hint = "packets cannot cross between the network and the TUN device; sysctl -w each of them =1"
            );
        }
        let control = match &s.control_socket {
            Some(p) => Some(control::bind(p).map_err(|error| GatewayError::ControlSocket { path: p.clone(), error })?),
            None => None,
        };
        let metrics = match s.metrics {
            Some(addr) => {
                let l = TcpListener::bind(addr).map_err(|error| GatewayError::Metrics { addr, error })?;
                l.set_nonblocking(true)
                    .map_err(|error| GatewayError::Metrics { addr, error })?;
                Some(l)
            }
            None => None,
        };
        // Last, so that a failure before leaves nothing behind (a TUN
        // device takes its routes with it; blackhole routes stay).
        if let (Port::AfPacket(_), true) = (&port, s.device.configure) {
            // The AF_PACKET interfaces count as other interfaces: the kernel
            // reaches the nodes on their links through them.
            let eamt = netconf::eamt_routes(&s.device.eamt_routes, &device, &[])?;
            netconf::add_new(&mut s.device.routes, eamt);
            for (i, r) in s.device.routes.iter().enumerate() {
                if let Err(e) = netconf::add_blackhole(r) {
                    for r in &s.device.routes[..i] {
                        let _ = netconf::del_blackhole(r);
                    }
                    return Err(e.into());
                }
            }
        }
        let gw = Arc::new(Gateway {
            device,
            settings: Mutex::new(s),
            rt,
            port,
            threads: Mutex::new(Vec::new()),
        });
        let mut threads = Vec::new();
        let spawn = |name: String, f: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new()
                .name(name)
                .spawn(f)
                .map_err(GatewayError::Thread)
        };
        for i in 0..n {
            let g = Arc::clone(&gw);
            threads.push(spawn(
                format!("nat64-worker-{i}"),
                Box::new(move || match &g.port {
                    Port::Tun(p) => g.rt.worker(p, i),
                    Port::AfPacket(p) => g.rt.worker(&**p, i),
                }),
            )?);
        }
        if gw.rt.is_stateful() {
            let g = Arc::clone(&gw);
            threads.push(spawn(
                "nat64-timers".into(),
                Box::new(move || match &g.port {
                    Port::Tun(p) => g.rt.timers(p),
                    Port::AfPacket(p) => g.rt.timers(&**p),
                }),
            )?);
        }
        if let Port::AfPacket(_) = gw.port {
            let g = Arc::clone(&gw);
            threads.push(spawn(
                "nat64-neighbours".into(),
                Box::new(move || {
                    if let Port::AfPacket(p) = &g.port {
                        p.keep_neighbours(g.rt.stopping())
                    }
                }),
            )?);
        }
        if let Some(l) = control {
            let g = Arc::clone(&gw);
            threads.push(spawn(
                "nat64-control".into(),
                Box::new(move || control::serve(l, g.rt.stop_fd(), |req| g.answer(req))),
            )?);
        }
        if let Some(l) = metrics {
            let g = Arc::clone(&gw);
            threads.push(spawn(
                "nat64-metrics".into(),
                Box::new(move || metrics::serve(l, g.rt.stop_fd(), || g.stats())),
            )?);
        }
        *lock(&gw.threads) = threads;
        {
            let s = lock(&gw.settings);
            let x = s.xlat.xlat();
            let pool4 = match &s.xlat {
                Xlat::Stateful(c) => c
                    .pool4
                    .iter()
                    .map(|e| e.prefix.to_string())
                    .collect::<Vec<_>>()
                    .join(","),
                Xlat::Stateless(_) => "-".into(),
            };
            log!(
                Level::Info,
                "gateway_started",
                mode = s.mode,
                device = gw.device,
                workers = n,
                adapter = match &gw.port {
                    Port::Tun(_) => "tun",
                    Port::AfPacket(_) => "af_packet",
                },
                queues = match &gw.port {
                    Port::Tun(t) => t.queues(),
                    Port::AfPacket(_) => n,
                },
                offload = match &gw.port {
                    Port::Tun(t) => t.offload(),
                    Port::AfPacket(_) => true,
                },
                mtu = s.device.mtu,
                pool6 = x.pool6.map(|p| p.to_string()).unwrap_or_else(|| "-".into()),
                pool4 = pool4,
                eamt = x.eamt.len(),
                clients = s.clients.describe(),
                control_socket = s
                    .control_socket
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| "-".into()),
                metrics = s.metrics.map(|a| a.to_string()).unwrap_or_else(|| "-".into()),
                icmp_errors = s.icmp_rate,
            );
        }
        Ok(gw)
    }

    /// The TUN device's name (with AF_PACKET: the two interfaces).
    pub fn device(&self) -> &str {
        &self.device
    }

    /// The mode.
    pub fn mode(&self) -> Mode {
        self.rt.mode()
    }

    /// Stops every thread, waits for them, and removes the control socket
    /// (and the AF_PACKET adapter's blackhole routes). The TUN device (with
    /// its addresses and routes) goes when the last reference to the gateway
    /// is dropped.
    pub fn shutdown(&self) {
        self.rt.stop();
        let threads = std::mem::take(&mut *lock(&self.threads));
        for t in threads {
            let _ = t.join();
        }
        let s = lock(&self.settings);
        if let Some(p) = &s.control_socket {
            let _ = std::fs::remove_file(p);
        }
        if let (Port::AfPacket(_), true) = (&self.port, s.device.configure) {
            for r in &s.device.routes {
                if let Err(e) = netconf::del_blackhole(r) {
                    log!(Level::Warn, "route_not_removed", error = e);
                }
            }
        }
        drop(s);
        let st = self.stats();
        let get = |l: &str| st.io.iter().find(|c| c.label == l).map_or(0, |c| c.count);
        log!(
            Level::Info,
            "gateway_stopped",
            uptime_s = st.uptime_s,
            rx_packets = get("rx_packets"),
            tx_packets = get("tx_packets"),
            drops = st.drops.iter().map(|c| c.count).sum::<u64>()
        );
    }

    /// Applies new settings; returns notes on what could not change
    /// without a restart. On error nothing changed.
    pub fn reload(&self, mut new: Settings) -> Result<Vec<String>, GatewayError> {
        let mtu_notes = fit_mtus(&mut new)?;
        let mut cur = lock(&self.settings);
        let icmp_limit = if new.icmp_rate != cur.icmp_rate {
            Some(runtime::icmp_limiter(new.icmp_rate)?)
        } else {
            None
        };
        if new.mode != cur.mode {
            return Err(GatewayError::Reload(format!(
                "[gateway] mode changed from {} to {}: restart the gateway to change mode",
                cur.mode, new.mode
            )));
        }
        let mut notes = mtu_notes;
        let d = &cur.device;
        if new.device.name != d.name
            || new.device.workers != d.workers
            || new.device.multi_queue != d.multi_queue
            || new.device.offload != d.offload
        {
            notes.push("[gateway] device, workers, multi_queue and offload apply at the next restart".to_owned());
            new.device.name = d.name.clone();
            new.device.workers = d.workers;
            new.device.multi_queue = d.multi_queue;
            new.device.offload = d.offload;
        }
        if new.adapter != cur.adapter {
            notes.push("[gateway] adapter and [af_packet] apply at the next restart".to_owned());
            new.adapter = cur.adapter.clone();
        }
        let d = &cur.device;
        if new.device.configure != d.configure {
            notes.push("[gateway] configure applies at the next restart".to_owned());
            new.device.configure = d.configure;
        }
        if new.control_socket != cur.control_socket || new.metrics != cur.metrics {
            notes.push("[gateway] control_socket and metrics apply at the next restart".to_owned());
            new.control_socket = cur.control_socket.clone();
            new.metrics = cur.metrics;
        }
        notes.extend(self.rt.set_xlat(&new.xlat)?);
        self.rt.set_clients(&new.clients);
        if cur.device.configure {
            let dev = &self.device;
            let packet = matches!(self.port, Port::AfPacket(_));
            // The routes already in the device do not count as reaching an
            // EAMT side elsewhere (nor do blackholes), so a side stays routed.
            let own: &[&str] = if packet { &[] } else { &[dev.as_str()] };
            match netconf::eamt_routes(&new.device.eamt_routes, dev, own) {
                Ok(eamt) => netconf::add_new(&mut new.device.routes, eamt),
                Err(e) => notes.push(e.to_string()),
            }
            if new.device.mtu != cur.device.mtu && !packet {
                if let Err(e) = netconf::link_up(dev, new.device.mtu) {
                    notes.push(e.to_string());
                }
            }
            for r in cur.device.routes.iter().filter(|r| !new.device.routes.contains(r)) {
                let r = if packet {
                    netconf::del_blackhole(r)
                } else {
                    netconf::del_route(dev, r)
                };
                if let Err(e) = r {
                    notes.push(e.to_string());
                }
            }
            if !packet {
                for a in cur
                    .device
                    .addresses
                    .iter()
                    .filter(|a| !new.device.addresses.contains(a))
                {
                    if let Err(e) = netconf::del_address(dev, a) {
                        notes.push(e.to_string());
                    }
                }
                for a in &new.device.addresses {
                    if let Err(e) = netconf::add_address(dev, a) {
                        notes.push(e.to_string());
                    }
                }
            }
            for r in &new.device.routes {
                let r = if packet {
                    netconf::add_blackhole(r)
                } else {
                    netconf::add_route(dev, r)
                };
                if let Err(e) = r {
                    notes.push(e.to_string());
                }
            }
        }
        if let Some(l) = icmp_limit {
            // New parameters start with full buckets.
            self.rt.set_icmp_limit(l);
        }
        *cur = new;
        self.rt.reloaded();
        Ok(notes)
    }

    /// The session table, as the control socket answers it.
    pub fn sessions(&self, proto: Option<&str>) -> Response {
        match self.rt.sessions(proto) {
            Ok(sessions) => Response::Sessions {
                mode: self.mode().to_string(),
                total: sessions.len() as u64,
                sessions,
            },
            Err(message) => Response::Error { message },
        }
    }

    /// Every counter.
    pub fn stats(&self) -> Stats {
        let port = match &self.port {
            Port::Tun(p) => p.counters(),
            Port::AfPacket(p) => p.counters(),
        };
        self.rt.stats(&self.device, port)
    }

    /// A control socket request.
    fn answer(&self, req: Request) -> Response {
        match req {
            Request::Sessions { proto } => self.sessions(proto.as_deref()),
            Request::Stats => Response::Stats(Box::new(self.stats())),
        }
    }
}

/// With the AF_PACKET adapter the gateway sends on the interfaces itself, so
/// nothing behind it answers a packet too big for the link with an ICMP
/// error: the core must, and its egress MTUs ([translator] mtu4 / mtu6) may
/// not exceed the interfaces'. Lowers them if needed; returns what it did.
fn fit_mtus(s: &mut Settings) -> Result<Vec<String>, GatewayError> {
    let Adapter::AfPacket { ipv6, ipv4 } = &s.adapter else {
        return Ok(Vec::new());
    };
    let mtu = |p: &crate::settings::PacketSide| {
        netconf::interface_mtu(&p.interface).map_err(|error| GatewayError::Packet {
            interface: p.interface.clone(),
            error,
        })
    };
    let (m6, m4) = (mtu(ipv6)?, mtu(ipv4)?);
    let cfg = match &mut s.xlat {
        Xlat::Stateless(c) => &mut **c,
        Xlat::Stateful(n) => &mut n.xlat,
    };
    let mut notes = Vec::new();
    if cfg.mtu4 > m4 {
        notes.push(format!(
            "[translator] mtu4 {} lowered to {m4}, the MTU of {}",
            cfg.mtu4, ipv4.interface
        ));
        cfg.mtu4 = m4;
    }
    if cfg.mtu6 > m6 && m6 >= 1280 {
        notes.push(format!(
            "[translator] mtu6 {} lowered to {m6}, the MTU of {}",
            cfg.mtu6, ipv6.interface
        ));
        cfg.mtu6 = m6;
    }
    Ok(notes)
}
