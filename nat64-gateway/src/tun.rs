//! The TUN adapter: the kernel routes pool6 and pool4 (and the EAMT sides)
//! into a TUN device, and the gateway reads packets from it and writes the
//! translations back.
//!
//! # Queues
//!
//! Measured on 2 vCPUs (BENCHMARKS.md): one queue per worker
//! (IFF_MULTI_QUEUE) beats workers sharing one queue under a UDP flood
//! (with a shared queue the workers take turns at the one queue's locks in
//! the kernel), and TCP is the same either way; so multi-queue stays the
//! default.
//!
//! # Offloads
//!
//! With `[gateway] offload` (the default) every packet on a queue has a
//! `virtio_net_hdr` before it ([`crate::vnet`]): TCP arrives as GSO/GRO
//! super-packets of up to 64 KiB, each translated once and written back
//! whole. The header is handed to the runtime as the packet's offload
//! metadata, and the output's header written before each translation in one
//! `writev`.

use std::fs::File;
use std::io::{IoSlice, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::sync::Arc;

use nat64_core::{Emitted, OUTPUT_BUFFER_LEN};

use crate::error::GatewayError;
use crate::log::{Level, PacketSummary};
use crate::port::{PacketPort, PortWorker, Tx};
use crate::settings::Device;
use crate::snapshot::{bump, Counter, IoCounters};
use crate::vnet::{VnetHdr, VNET_HDR_LEN};
use crate::{log, netconf, sys};

/// The TUN device's queues (one per worker, or one shared).
#[derive(Debug)]
pub(crate) struct TunPort {
    queues: Vec<Arc<File>>,
    /// Each packet has a `virtio_net_hdr` before it.
    offload: bool,
    device: String,
}

impl TunPort {
    /// Opens the device's queues for `d.workers` workers; with
    /// `d.configure`, brings it up with its addresses and routes (`d.routes`
    /// gains the EAMT routes installed).
    pub(crate) fn open(d: &mut Device) -> Result<TunPort, GatewayError> {
        let n = d.workers;
        let nq = if d.multi_queue { n } else { 1 };
        let mut queues = Vec::with_capacity(nq);
        let mut device = d.name.clone();
        for _ in 0..nq {
            let (f, name) =
                sys::open_tun(&device, d.multi_queue && n > 1, d.offload).map_err(|error| GatewayError::Tun {
                    name: device.clone(),
                    error,
                })?;
            device = name;
            queues.push(Arc::new(f));
        }
        if d.configure {
            netconf::link_up(&device, d.mtu)?;
            let eamt = netconf::eamt_routes(&d.eamt_routes, &device, &[device.as_str()])?;
            netconf::add_new(&mut d.routes, eamt);
            for a in &d.addresses {
                netconf::add_address(&device, a)?;
            }
            for r in &d.routes {
                netconf::add_route(&device, r)?;
            }
        }
        Ok(TunPort {
            queues,
            offload: d.offload,
            device,
        })
    }

    /// The device's name (the kernel's choice when the name had a `%d`).
    pub(crate) fn device(&self) -> &str {
        &self.device
    }

    /// How many queues.
    pub(crate) fn queues(&self) -> usize {
        self.queues.len()
    }

    /// Whether the queues carry offloads.
    pub(crate) fn offload(&self) -> bool {
        self.offload
    }
}

impl PacketPort for TunPort {
    type Worker<'a> = TunWorker<'a>;

    fn worker<'a>(&'a self, idx: usize, io: &'a IoCounters) -> Option<TunWorker<'a>> {
        let q = &*self.queues[idx % self.queues.len()];
        let hl = if self.offload { VNET_HDR_LEN } else { 0 };
        Some(TunWorker {
            idx,
            hl,
            // A super-packet is at most 64 KiB of IP packet after its header.
            buf: vec![0u8; hl + 65536 + 128],
            tx: TunTx {
                q,
                offload: self.offload,
                out: vec![0u8; OUTPUT_BUFFER_LEN],
                io,
            },
        })
    }

    fn send_one(&self, pkt: &[u8], io: &IoCounters) {
        write(&self.queues[0], self.offload, pkt, VnetHdr::default(), io);
    }

    fn counters(&self) -> Vec<Counter> {
        let dropped = std::fs::read_to_string("/proc/net/dev")
            .ok()
            .and_then(|t| tun_queue_dropped(&t, &self.device));
        vec![Counter {
            label: "tun_queue_dropped".into(),
            count: dropped.unwrap_or(0),
            explain: "packets the kernel dropped because the TUN device's queue to the gateway was full (the gateway is overloaded: more workers, or the af_packet adapter); the kernel's count for the device, since it was created".into(),
        }]
    }
}

/// A worker's queue and buffers.
pub(crate) struct TunWorker<'a> {
    idx: usize,
    /// Bytes of `virtio_net_hdr` before each packet (0 without offloads).
    hl: usize,
    buf: Vec<u8>,
    tx: TunTx<'a>,
}

impl<'a> PortWorker for TunWorker<'a> {
    type Tx = TunTx<'a>;

    fn wait(&mut self, stop: RawFd) -> std::io::Result<bool> {
        Ok(!sys::poll_readable(self.tx.q.as_raw_fd(), stop, None)?[1])
    }

    /// Up to 256 reads, then back to [`PortWorker::wait`] (which looks at
    /// the stop signal).
    fn receive<F: FnMut(&mut [u8], VnetHdr, &mut TunTx<'a>)>(&mut self, mut f: F) -> bool {
        let TunWorker { idx, hl, buf, tx } = self;
        let (idx, hl) = (*idx, *hl);
        for _ in 0..256 {
            match tx.q.read(buf) {
                Ok(n) if n < hl => {
                    bump(&tx.io.rx_errors, 1);
                    log!(Level::Warn, "tun_read_short", worker = idx, bytes = n);
                }
                Ok(n) => {
                    let (h, pkt) = buf[..n].split_at_mut(hl);
                    let h = match <&[u8; VNET_HDR_LEN]>::try_from(&*h) {
                        Ok(h) => VnetHdr::parse(h),
                        Err(_) => VnetHdr::default(),
                    };
                    f(pkt, h, tx);
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    bump(&tx.io.rx_errors, 1);
                    log!(Level::Warn, "tun_read_failed", worker = idx, error = e);
                    break;
                }
            }
        }
        false
    }

    /// Every packet was written as it was translated.
    fn flush(&mut self) {}
}

/// A worker's send side: the core's output buffer and the queue.
pub(crate) struct TunTx<'a> {
    q: &'a File,
    offload: bool,
    out: Vec<u8>,
    io: &'a IoCounters,
}

impl Tx for TunTx<'_> {
    fn space(&mut self) -> &mut [u8] {
        &mut self.out
    }

    fn send(&mut self, len: usize, h: VnetHdr) {
        write(self.q, self.offload, &self.out[..len], h, self.io);
    }

    fn send_each(&mut self, e: &Emitted) {
        for p in e.packets(&self.out) {
            write(self.q, self.offload, p, VnetHdr::default(), self.io);
        }
    }
}

/// Writes one packet, after its offload header `h` when the queues have
/// one (one `writev`: a TUN write takes the whole packet or fails).
fn write(mut q: &File, offload: bool, p: &[u8], h: VnetHdr, io: &IoCounters) {
    let hb = h.to_bytes();
    let r = if offload {
        q.write_vectored(&[IoSlice::new(&hb), IoSlice::new(p)])
            .map(|n| n.saturating_sub(VNET_HDR_LEN))
    } else {
        q.write(p)
    };
    match r {
        Ok(n) if n == p.len() => {
            bump(&io.tx_packets, 1);
            bump(&io.tx_bytes, p.len() as u64);
        }
        Ok(n) => {
            bump(&io.tx_errors, 1);
            log!(Level::Warn, "tun_write_short", written = n, packet = PacketSummary(p));
        }
        Err(e) => {
            bump(&io.tx_errors, 1);
            log!(Level::Warn, "tun_write_failed", error = e, packet = PacketSummary(p));
        }
    }
}

/// The kernel's count of packets dropped on their way from the TUN device
/// to its reader, from the text of `/proc/net/dev`: the device's transmit
/// `drop` column (for a TUN device the kernel transmits to the reader, and
/// counts a full queue there). `/proc/net/dev` shows the network namespace
/// of the reading process (the gateway never changes namespace), so it is
/// the gateway's own device even when another namespace has one of the same
/// name.
fn tun_queue_dropped(proc_net_dev: &str, device: &str) -> Option<u64> {
    proc_net_dev.lines().skip(2).find_map(|line| {
        let (name, rest) = line.split_once(':')?;
        if name.trim() != device {
            return None;
        }
        // Receive: bytes packets errs drop fifo frame compressed multicast;
        // then transmit: bytes packets errs drop ...
        rest.split_whitespace().nth(11)?.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tun_queue_drops_from_proc_net_dev() {
        let text = "Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:    1234      10    0    0    0     0          0         0     1234      10    0    0    0     0       0          0
 nat64: 9876543  123456    0    7    0     0          0         0 87654321  234567    0 190207    0     0       0          0
 nat64b:      1       1    0    0    0     0          0         0        1       1    0    5    0     0       0          0
";
        assert_eq!(tun_queue_dropped(text, "nat64"), Some(190_207));
        assert_eq!(tun_queue_dropped(text, "nat64b"), Some(5));
        assert_eq!(tun_queue_dropped(text, "lo"), Some(0));
        assert_eq!(tun_queue_dropped(text, "nat"), None);
        assert_eq!(tun_queue_dropped("", "nat64"), None);
    }
}
