//! AF_PACKET sockets for the AF_PACKET adapter: a raw socket bound to one
//! interface and EtherType, with a `virtio_net_hdr` before every frame
//! (`PACKET_VNET_HDR`, so that GRO/GSO super-packets and partial checksums
//! come and go as on a TUN device with offloads), a memory-mapped TPACKET_V3
//! receive ring, fanout groups across workers, and batched sends
//! (`sendmmsg`). Every `unsafe` block of the adapter is here, each with the
//! reason it is sound; the rest parses the ring's bytes with bounds checks.
//!
//! The ring protocol (Documentation/networking/packet_mmap.rst): the ring is
//! `blocks` blocks of `block_size` bytes. The kernel fills the current block
//! and hands it over by setting its status to `TP_STATUS_USER` (after a write
//! barrier); from then on it does not touch the block until user space sets
//! the status back to `TP_STATUS_KERNEL`. A block is handed over when full or
//! when `retire_ms` has passed since its first packet.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, Ordering};

// From include/uapi/linux/if_packet.h (not all libc versions have them).
const PACKET_RX_RING: libc::c_int = 5;
const PACKET_STATISTICS: libc::c_int = 6;
const PACKET_VERSION: libc::c_int = 10;
const PACKET_VNET_HDR: libc::c_int = 15;
const PACKET_FANOUT: libc::c_int = 18;
const PACKET_QDISC_BYPASS: libc::c_int = 20;
const PACKET_IGNORE_OUTGOING: libc::c_int = 23;
const TPACKET_V3: libc::c_int = 2;
const PACKET_FANOUT_HASH: u32 = 0;
const PACKET_FANOUT_FLAG_UNIQUEID: u32 = 0x2000;
const TP_STATUS_KERNEL: u32 = 0;
const TP_STATUS_USER: u32 = 1;
/// `TP_STATUS_VLAN_VALID`: the frame came with a VLAN tag (stripped).
pub const TP_STATUS_VLAN_VALID: u32 = 1 << 4;
/// `PACKET_OUTGOING`: a frame this host sent.
pub const PACKET_OUTGOING: u8 = 4;
/// `PACKET_OTHERHOST`: a frame for another host (promiscuous mode).
pub const PACKET_OTHERHOST: u8 = 3;
/// Bytes of `virtio_net_hdr` the kernel puts before each frame.
pub const VNET_LEN: usize = 10;

/// `struct tpacket_req3`.
#[repr(C)]
struct TpacketReq3 {
    block_size: libc::c_uint,
    block_nr: libc::c_uint,
    frame_size: libc::c_uint,
    frame_nr: libc::c_uint,
    retire_blk_tov: libc::c_uint,
    sizeof_priv: libc::c_uint,
    feature_req_word: libc::c_uint,
}

/// `struct tpacket_stats_v3`.
#[repr(C)]
#[derive(Default)]
struct TpacketStatsV3 {
    packets: libc::c_uint,
    drops: libc::c_uint,
    freeze_q_cnt: libc::c_uint,
}

/// The shape of a receive ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingSpec {
    /// Bytes per block: a multiple of the page size, larger than the
    /// largest frame (a 64 KiB super-packet).
    pub block_size: usize,
    /// Blocks in the ring.
    pub blocks: usize,
    /// Milliseconds after which a block that is not full is handed over
    /// (the latency of a lone packet; rounded up to the kernel's tick).
    pub retire_ms: u32,
}

impl Default for RingSpec {
    fn default() -> Self {
        RingSpec {
            block_size: 1 << 18,
            blocks: 32,
            retire_ms: 1,
        }
    }
}

/// The mapped ring.
struct Ring {
    base: NonNull<u8>,
    block_size: usize,
    blocks: usize,
    next: usize,
}

/// An AF_PACKET socket (see the module documentation).
pub struct PacketSocket {
    fd: OwnedFd,
    ring: Option<Ring>,
}

// SAFETY: the ring's memory is owned by the socket (mapped in `open`,
// unmapped in `drop`) and reached only through `&mut self`, so moving the
// socket to another thread moves the sole access with it; the kernel side is
// synchronised by the block status protocol, not by thread identity.
unsafe impl Send for PacketSocket {}

impl std::fmt::Debug for PacketSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PacketSocket")
            .field("fd", &self.fd.as_raw_fd())
            .field("ring", &self.ring.is_some())
            .finish()
    }
}

fn setsockopt<T>(fd: RawFd, level: libc::c_int, name: libc::c_int, value: &T) -> io::Result<()> {
    // SAFETY: `value` points at a live, initialised T whose size is passed
    // with it; the kernel only reads it.
    let r = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (value as *const T).cast(),
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

impl PacketSocket {
    /// A raw, non-blocking AF_PACKET socket receiving frames of EtherType
    /// `protocol` (host order; `0x0003` for all) on interface `ifindex`, with
    /// `PACKET_VNET_HDR`, without this host's own outgoing frames, sending
    /// straight to the driver (`PACKET_QDISC_BYPASS`); with `ring`, a
    /// TPACKET_V3 receive ring.
    pub fn open(ifindex: u32, protocol: u16, ring: Option<RingSpec>) -> io::Result<PacketSocket> {
        let proto = protocol.to_be();
        // SAFETY: socket(2) takes plain integers.
        let raw = cvt(unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
                libc::c_int::from(proto),
            )
        })?;
        // SAFETY: `raw` was just returned by socket(2) and nothing else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let one: libc::c_int = 1;
        setsockopt(fd.as_raw_fd(), libc::SOL_PACKET, PACKET_VNET_HDR, &one)?;
        // Older kernels (< 4.20) lack it: their own frames are then filtered
        // by packet type in user space.
        let _ = setsockopt(fd.as_raw_fd(), libc::SOL_PACKET, PACKET_IGNORE_OUTGOING, &one);
        setsockopt(fd.as_raw_fd(), libc::SOL_PACKET, PACKET_QDISC_BYPASS, &one)?;
        let sndbuf: libc::c_int = 4 << 20;
        let _ = setsockopt(fd.as_raw_fd(), libc::SOL_SOCKET, libc::SO_SNDBUFFORCE, &sndbuf);
        let mut sock = PacketSocket { fd, ring: None };
        if let Some(spec) = ring {
            sock.ring = Some(sock.map_ring(spec)?);
        }
        // Bound last, so that no frame arrives before the ring exists.
        // SAFETY: sockaddr_ll is plain data; all-zero is a valid value.
        let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as libc::c_ushort;
        sll.sll_protocol = proto;
        sll.sll_ifindex = ifindex as libc::c_int;
        // SAFETY: `sll` is a valid sockaddr_ll of the size passed, alive
        // across the call.
        cvt(unsafe {
            libc::bind(
                sock.fd.as_raw_fd(),
                (&sll as *const libc::sockaddr_ll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        })?;
        Ok(sock)
    }

    fn map_ring(&self, spec: RingSpec) -> io::Result<Ring> {
        // SAFETY: sysconf takes an integer.
        let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096);
        if spec.block_size == 0 || spec.block_size % page != 0 || spec.blocks == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "ring blocks must be a multiple of the page size",
            ));
        }
        let version = TPACKET_V3;
        setsockopt(self.fd.as_raw_fd(), libc::SOL_PACKET, PACKET_VERSION, &version)?;
        let frame = 2048;
        let req = TpacketReq3 {
            block_size: spec.block_size as libc::c_uint,
            block_nr: spec.blocks as libc::c_uint,
            frame_size: frame as libc::c_uint,
            frame_nr: (spec.block_size / frame * spec.blocks) as libc::c_uint,
            retire_blk_tov: spec.retire_ms,
            sizeof_priv: 0,
            feature_req_word: 0,
        };
        setsockopt(self.fd.as_raw_fd(), libc::SOL_PACKET, PACKET_RX_RING, &req)?;
        let len = spec.block_size * spec.blocks;
        // SAFETY: a fresh shared mapping of the ring just configured on this
        // socket, of exactly its size; the kernel checks both.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_POPULATE,
                self.fd.as_raw_fd(),
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Ring {
            base: NonNull::new(p.cast()).ok_or_else(|| io::Error::other("mmap returned null"))?,
            block_size: spec.block_size,
            blocks: spec.blocks,
            next: 0,
        })
    }

    /// The descriptor (to poll).
    pub fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Joins fanout group `group` (flow hash: the frames of a flow go to one
    /// member), or with `None` creates a group with an id the kernel picks.
    /// Returns the group's id, for the other members.
    pub fn join_fanout(&self, group: Option<u16>) -> io::Result<u16> {
        let val: u32 = match group {
            Some(id) => u32::from(id) | (PACKET_FANOUT_HASH << 16),
            None => (PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_UNIQUEID) << 16,
        };
        setsockopt(self.fd.as_raw_fd(), libc::SOL_PACKET, PACKET_FANOUT, &val)?;
        if let Some(id) = group {
            return Ok(id);
        }
        let mut got: u32 = 0;
        let mut len = std::mem::size_of::<u32>() as libc::socklen_t;
        // SAFETY: `got` and `len` are valid out-pointers alive across the
        // call, `len` holding the size of `got`.
        cvt(unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_PACKET,
                PACKET_FANOUT,
                (&mut got as *mut u32).cast(),
                &mut len,
            )
        })?;
        Ok(got as u16)
    }

    /// Frames the kernel dropped since the last call because the ring was
    /// full (`PACKET_STATISTICS`, which resets on read).
    pub fn take_drops(&self) -> io::Result<u64> {
        let mut st = TpacketStatsV3::default();
        let mut len = std::mem::size_of::<TpacketStatsV3>() as libc::socklen_t;
        // SAFETY: `st` and `len` are valid out-pointers alive across the
        // call; `len` is the size of `st`, the largest statistics struct.
        cvt(unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_PACKET,
                PACKET_STATISTICS,
                (&mut st as *mut TpacketStatsV3).cast(),
                &mut len,
            )
        })?;
        Ok(u64::from(st.drops))
    }

    /// The next block the kernel handed over, if any. Dropping the block
    /// gives it back.
    pub fn next_block(&mut self) -> Option<Block<'_>> {
        let ring = self.ring.as_mut()?;
        // SAFETY: `next < blocks`, so the block lies inside the mapping.
        let start = unsafe { ring.base.as_ptr().add(ring.next * ring.block_size) };
        // SAFETY: `block_status` (offset 8 of `struct tpacket_block_desc`) is
        // an aligned u32 inside the mapping, written by the kernel with
        // barriers; reading it atomically is how the protocol hands over a
        // block. `AtomicU32` has the layout of `u32`.
        let status = unsafe { AtomicU32::from_ptr(start.add(8).cast::<u32>()) };
        if status.load(Ordering::Acquire) & TP_STATUS_USER == 0 {
            return None;
        }
        // SAFETY: the block is ours (TP_STATUS_USER, read with Acquire after
        // the kernel's write barrier): its header fields are final. They are
        // aligned u32s at offsets 12 and 16.
        let (num, first) = unsafe {
            (
                std::ptr::read_volatile(start.add(12).cast::<u32>()),
                std::ptr::read_volatile(start.add(16).cast::<u32>()),
            )
        };
        let first = (first as usize).clamp(24, ring.block_size);
        // SAFETY: until the status is set back to TP_STATUS_KERNEL (in
        // `Block::drop`), the kernel neither reads nor writes the block, and
        // `&mut self` makes this the only view of it in this process. The
        // slice starts after the block header (which holds the status word
        // reached through `status`), so the two never overlap.
        let data = unsafe { std::slice::from_raw_parts_mut(start.add(first), ring.block_size - first) };
        ring.next = (ring.next + 1) % ring.blocks;
        Some(Block {
            status,
            data,
            num: num as usize,
        })
    }

    /// Sends `frames` (each `(offset, length, ifindex, ethertype)`: a
    /// `virtio_net_hdr` and an Ethernet frame at `buf[offset..offset +
    /// length]`, with the interface index and EtherType to send it with) in
    /// as few `sendmmsg` calls as the kernel allows. Returns how many were
    /// sent: a full socket buffer or a refused frame stops the batch.
    pub fn send_frames(
        &self,
        buf: &[u8],
        frames: &[(usize, usize, u32, u16)],
        scratch: &mut SendScratch,
    ) -> io::Result<usize> {
        let n = frames.len();
        scratch.iov.clear();
        scratch.addr.clear();
        scratch.msgs.clear();
        for &(off, len, ifindex, ethertype) in frames {
            let f = &buf[off..off + len];
            scratch.iov.push(libc::iovec {
                iov_base: f.as_ptr() as *mut libc::c_void,
                iov_len: f.len(),
            });
            // SAFETY: sockaddr_ll is plain data; all-zero is a valid value.
            let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
            sll.sll_family = libc::AF_PACKET as libc::c_ushort;
            sll.sll_protocol = ethertype.to_be();
            sll.sll_ifindex = ifindex as libc::c_int;
            scratch.addr.push(sll);
        }
        for i in 0..n {
            // SAFETY: mmsghdr is plain data; all-zero is a valid value.
            let mut m: libc::mmsghdr = unsafe { std::mem::zeroed() };
            m.msg_hdr.msg_name = (&mut scratch.addr[i] as *mut libc::sockaddr_ll).cast();
            m.msg_hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
            m.msg_hdr.msg_iov = &mut scratch.iov[i];
            m.msg_hdr.msg_iovlen = 1;
            scratch.msgs.push(m);
        }
        let mut sent = 0;
        while sent < n {
            let batch = (n - sent).min(1024) as libc::c_uint;
            // SAFETY: `msgs[sent..sent + batch]` are initialised mmsghdrs whose
            // name and iovec pointers point into `scratch.addr` and
            // `scratch.iov` (not resized since) and the iovecs into `buf`,
            // all alive across the call; the kernel only reads them (and
            // writes `msg_len`).
            let r = unsafe { libc::sendmmsg(self.fd.as_raw_fd(), scratch.msgs.as_mut_ptr().add(sent), batch, 0) };
            if r < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                if sent > 0 {
                    return Ok(sent);
                }
                return Err(e);
            }
            if r == 0 {
                break;
            }
            sent += r as usize;
        }
        Ok(sent)
    }
}

impl Drop for PacketSocket {
    fn drop(&mut self) {
        if let Some(r) = self.ring.take() {
            // SAFETY: the mapping made in `map_ring`, of this size; no `Block`
            // borrows it any more (`&mut self`).
            unsafe { libc::munmap(r.base.as_ptr().cast(), r.block_size * r.blocks) };
        }
    }
}

/// Reusable buffers of [`PacketSocket::send_frames`] (no allocation per
/// batch once warm).
#[derive(Default)]
pub struct SendScratch {
    iov: Vec<libc::iovec>,
    addr: Vec<libc::sockaddr_ll>,
    msgs: Vec<libc::mmsghdr>,
}

// SAFETY: the raw pointers inside are only meaningful during one
// `send_frames` call, which rebuilds them first; between calls they are dead
// values, so the buffers may move between threads.
unsafe impl Send for SendScratch {}

impl std::fmt::Debug for SendScratch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendScratch").finish_non_exhaustive()
    }
}

/// One frame of a block.
#[derive(Debug)]
pub struct Frame<'a> {
    /// The `virtio_net_hdr` the kernel wrote before it.
    pub vnet: [u8; VNET_LEN],
    /// `tp_status` (`TP_STATUS_VLAN_VALID`, `TP_STATUS_CSUMNOTREADY`, ...).
    pub status: u32,
    /// `sll_pkttype` (`PACKET_HOST`, `PACKET_OUTGOING`, ...).
    pub pkttype: u8,
    /// The frame's length on the wire; more than `data.len()` if cut.
    pub len: usize,
    /// The frame from its Ethernet header, writable (the block is ours).
    pub data: &'a mut [u8],
}

/// A block handed over by the kernel: its frames, then given back on drop.
pub struct Block<'a> {
    status: &'a AtomicU32,
    data: &'a mut [u8],
    num: usize,
}

impl std::fmt::Debug for Block<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Block").field("frames", &self.num).finish()
    }
}

fn u32_at(b: &[u8], o: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(o..o + 4)?.try_into().ok()?))
}
fn u16_at(b: &[u8], o: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(o..o + 2)?.try_into().ok()?))
}

impl Block<'_> {
    /// Frames in the block.
    pub fn len(&self) -> usize {
        self.num
    }

    /// Whether the block holds no frame.
    pub fn is_empty(&self) -> bool {
        self.num == 0
    }

    /// Calls `f` with each frame in turn. A malformed frame header (which
    /// the kernel never writes) ends the walk.
    pub fn for_each(&mut self, mut f: impl FnMut(Frame<'_>)) {
        let mut off = 0usize;
        for _ in 0..self.num {
            // struct tpacket3_hdr: next_offset @0, snaplen @12, len @16,
            // status @20, mac @24; struct sockaddr_ll follows at 48
            // (TPACKET_ALIGN(sizeof(tpacket3_hdr))), sll_pkttype at +10.
            let h = &self.data[off.min(self.data.len())..];
            let (Some(next), Some(snap), Some(len), Some(status), Some(mac)) =
                (u32_at(h, 0), u32_at(h, 12), u32_at(h, 16), u32_at(h, 20), u16_at(h, 24))
            else {
                return;
            };
            let (mac, snap) = (usize::from(mac), snap as usize);
            let Some(&pkttype) = h.get(58) else { return };
            if mac < 58 + VNET_LEN || mac + snap > h.len() {
                return;
            }
            let h = &mut self.data[off..];
            let mut vnet = [0u8; VNET_LEN];
            vnet.copy_from_slice(&h[mac - VNET_LEN..mac]);
            f(Frame {
                vnet,
                status,
                pkttype,
                len: len as usize,
                data: &mut h[mac..mac + snap],
            });
            if next == 0 {
                return;
            }
            off += next as usize;
        }
    }
}

impl Drop for Block<'_> {
    fn drop(&mut self) {
        // Hands the block back: every access to its frames happens before
        // (Release), and the kernel reads the status with a barrier.
        self.status.store(TP_STATUS_KERNEL, Ordering::Release);
    }
}
