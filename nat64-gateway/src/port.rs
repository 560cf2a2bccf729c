//! A packet port: how the gateway's runtime meets the network. The TUN
//! adapter ([`crate::tun`]) and the AF_PACKET adapter ([`crate::afpacket`])
//! each implement it, side by side; the runtime ([`crate::runtime`]) runs
//! one worker loop, one offload receive path and one verdict dispatch over
//! either.
//!
//! A port hands the runtime each received IP packet (framing already taken
//! off: the TUN `virtio_net_hdr`, the Ethernet header) with its offload
//! metadata as a [`VnetHdr`] whose offsets count from the IP header (a TUN
//! queue without offloads hands [`VnetHdr::default`]: a plain packet, its
//! checksum complete). The runtime reads it ([`crate::vnet::receive`]: a
//! TCP super-packet and its segment size, or a partial checksum to finish),
//! translates straight into the port's send space ([`Tx::space`]), and
//! sends the result with the offload header of the output
//! ([`crate::vnet::transmit`]): the same segment size, the checksum state.
//! Nothing is copied on the way but what the core writes.

use std::os::fd::RawFd;

use nat64_core::Emitted;

use crate::snapshot::{Counter, IoCounters};
use crate::vnet::VnetHdr;

/// A way to the network, shared by the worker threads.
pub(crate) trait PacketPort: Sync {
    /// One worker's receive and send state (its queue; or its rings and
    /// send batch), owned by the worker thread.
    type Worker<'a>: PortWorker
    where
        Self: 'a;

    /// The state of worker `idx`, counting into `io`; `None` if it was
    /// already taken.
    fn worker<'a>(&'a self, idx: usize, io: &'a IoCounters) -> Option<Self::Worker<'a>>;

    /// Sends one IP packet from outside a worker (the timers thread's ICMP
    /// errors), plain, counting into `io`.
    fn send_one(&self, pkt: &[u8], io: &IoCounters);

    /// Counters only this adapter has, appended to the `io` group of the
    /// statistics.
    fn counters(&self) -> Vec<Counter> {
        Vec::new()
    }
}

/// One worker's side of a [`PacketPort`].
pub(crate) trait PortWorker {
    /// Where translations are written and sent from.
    type Tx: Tx;

    /// Blocks until packets may be waiting or `stop` is readable; `false`
    /// when the gateway stops.
    fn wait(&mut self, stop: RawFd) -> std::io::Result<bool>;

    /// Receives one batch: calls `f` with each packet (from its IP header;
    /// the port may finish a partial checksum in place through it), the
    /// packet's offload metadata (offsets from the IP header), and the send
    /// side. Returns whether more may be waiting without another
    /// [`PortWorker::wait`].
    fn receive<F: FnMut(&mut [u8], VnetHdr, &mut Self::Tx)>(&mut self, f: F) -> bool;

    /// Sends what the batch queued (after each [`PortWorker::receive`]).
    fn flush(&mut self);

    /// Between two batches of a burst: quick upkeep.
    fn between(&mut self) {}

    /// After a burst, before waiting again: the rest of the upkeep.
    fn idle(&mut self) {}
}

/// The send side of a worker.
pub(crate) trait Tx {
    /// Where the core writes the next translation: at least
    /// [`nat64_core::OUTPUT_BUFFER_LEN`] bytes. The same space until
    /// something is sent.
    fn space(&mut self) -> &mut [u8];

    /// Sends the packet in the first `len` bytes of the space, with the
    /// offload header `h` (offsets from the IP header).
    fn send(&mut self, len: usize, h: VnetHdr);

    /// Sends the packets (fragments) the core wrote back to back at the
    /// space, each plain.
    fn send_each(&mut self, e: &Emitted);
}
