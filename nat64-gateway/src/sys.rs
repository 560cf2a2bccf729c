//! The system calls std does not wrap, and so every `unsafe` block of the
//! gateway: the TUN ioctl, `poll(2)`, and the signal mask. Each block says
//! why it is sound; everything above this module is safe Rust.

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

pub mod packet;

/// Linux's limit on interface names, terminating NUL included (IFNAMSIZ).
pub const IFNAMSIZ: usize = libc::IFNAMSIZ;

/// TUN offloads the gateway asks for with `offload` (TUNSETOFFLOAD):
/// partial checksums and TCP segmentation (IPv4, IPv6, with ECN), so that
/// TCP arrives as super-packets of up to 64 KiB.
pub const TUN_OFFLOADS: libc::c_uint = libc::TUN_F_CSUM | libc::TUN_F_TSO4 | libc::TUN_F_TSO6 | libc::TUN_F_TSO_ECN;

/// Opens `/dev/net/tun` and attaches the descriptor to the TUN device
/// `name` (created if it does not exist), without packet information
/// (IFF_NO_PI: every read and write is one bare IP packet), non-blocking.
/// With `multi_queue`, several descriptors may attach to the same device
/// (IFF_MULTI_QUEUE), one per queue. With `offload`, every packet is
/// preceded by a 10-byte `virtio_net_hdr` (IFF_VNET_HDR) and the device
/// takes [`TUN_OFFLOADS`] (see [`crate::vnet`]). Returns the device's name
/// as the kernel reports it (an empty `name` or one with `%d` gets a free
/// name).
pub fn open_tun(name: &str, multi_queue: bool, offload: bool) -> io::Result<(File, String)> {
    if name.len() >= IFNAMSIZ || name.bytes().any(|b| b == 0 || b == b'/' || b.is_ascii_whitespace()) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{name:?} is not a valid interface name (at most 15 bytes, no '/', spaces or NUL)"),
        ));
    }
    let path = c"/dev/net/tun";
    // SAFETY: `path` is a NUL-terminated C string that outlives the call;
    // open(2) has no other precondition.
    let raw = unsafe { libc::open(path.as_ptr(), libc::O_RDWR | libc::O_CLOEXEC | libc::O_NONBLOCK) };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `raw` was just returned by open(2), is valid, and nothing else
    // owns it; the OwnedFd closes it exactly once.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    // SAFETY: `ifreq` is a plain C struct (arrays and a union of integers
    // and pointers) for which all-zero bytes are a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, &src) in req.ifr_name.iter_mut().zip(name.as_bytes()) {
        *dst = src as libc::c_char;
    }
    let mut flags = libc::IFF_TUN | libc::IFF_NO_PI;
    if multi_queue {
        flags |= libc::IFF_MULTI_QUEUE;
    }
    if offload {
        flags |= libc::IFF_VNET_HDR;
    }
    req.ifr_ifru.ifru_flags = flags as libc::c_short;
    // SAFETY: TUNSETIFF reads and writes one `struct ifreq`; `req` is one,
    // properly aligned, and lives across the call; `fd` is an open
    // /dev/net/tun descriptor.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TUNSETIFF, &mut req as *mut libc::ifreq) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    if offload {
        let size: libc::c_int = crate::vnet::VNET_HDR_LEN as libc::c_int;
        // SAFETY: TUNSETVNETHDRSZ reads one `int` through the pointer, which
        // points at `size`, alive across the call; `fd` is a TUN descriptor.
        if unsafe { libc::ioctl(fd.as_raw_fd(), libc::TUNSETVNETHDRSZ, &size as *const libc::c_int) } < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: TUNSETOFFLOAD takes its argument by value (an unsigned
        // long of TUN_F_* flags) and touches no memory of ours.
        if unsafe { libc::ioctl(fd.as_raw_fd(), libc::TUNSETOFFLOAD, libc::c_ulong::from(TUN_OFFLOADS)) } < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    let actual: Vec<u8> = req.ifr_name.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
    Ok((File::from(fd), String::from_utf8_lossy(&actual).into_owned()))
}

/// Which of the descriptors given to [`poll_readable`] are readable.
pub type Ready = [bool; 2];

/// Waits until `a` or `b` is readable (or hung up), or `timeout` passes
/// (`None`: no timeout). EINTR counts as "nothing ready".
pub fn poll_readable(a: RawFd, b: RawFd, timeout: Option<Duration>) -> io::Result<Ready> {
    let mut fds = [
        libc::pollfd {
            fd: a,
            events: libc::POLLIN,
            revents: 0,
        },
        libc::pollfd {
            fd: b,
            events: libc::POLLIN,
            revents: 0,
        },
    ];
    let ms = match timeout {
        None => -1,
        // Round up so that a timer is never polled a little early forever.
        Some(d) => d.as_micros().div_ceil(1000).min(i32::MAX as u128) as libc::c_int,
    };
    // SAFETY: `fds` is a valid array of two pollfd that outlives the call,
    // and its length is passed with it.
    let r = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
    if r < 0 {
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::Interrupted {
            return Ok([false, false]);
        }
        return Err(e);
    }
    let hit = |p: &libc::pollfd| p.revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0;
    Ok([hit(&fds[0]), hit(&fds[1])])
}

/// The loop of a small server (control socket, metrics): waits until the
/// non-blocking `listener` is readable and calls `accept` (which accepts
/// and answers one connection), until `stop` is readable. Returns the poll
/// error that ended it early.
pub fn serve_until(listener: RawFd, stop: RawFd, mut accept: impl FnMut()) -> io::Result<()> {
    loop {
        match poll_readable(listener, stop, None)? {
            [_, true] => return Ok(()),
            [true, _] => accept(),
            _ => {}
        }
    }
}

/// Waits until one of `fds` (at most 8) is readable (or hung up), or
/// `timeout` passes (`None`: no timeout). Returns a bit set: bit `i` for
/// `fds[i]`. EINTR counts as "nothing ready".
pub fn poll_set(fds: &[RawFd], timeout: Option<Duration>) -> io::Result<u32> {
    let mut p = [libc::pollfd {
        fd: -1,
        events: libc::POLLIN,
        revents: 0,
    }; 8];
    let n = fds.len().min(p.len());
    for (d, &fd) in p.iter_mut().zip(&fds[..n]) {
        d.fd = fd;
    }
    let ms = match timeout {
        None => -1,
        Some(d) => d.as_micros().div_ceil(1000).min(i32::MAX as u128) as libc::c_int,
    };
    // SAFETY: `p` is a valid array of at least `n` pollfd that outlives the
    // call, and `n` is passed with it.
    let r = unsafe { libc::poll(p.as_mut_ptr(), n as libc::nfds_t, ms) };
    if r < 0 {
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::Interrupted {
            return Ok(0);
        }
        return Err(e);
    }
    let mut set = 0u32;
    for (i, d) in p[..n].iter().enumerate() {
        if d.revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0 {
            set |= 1 << i;
        }
    }
    Ok(set)
}

/// A set of signals blocked in the calling thread (and so in every thread
/// it starts afterwards) and received synchronously with [`Signals::wait`]:
/// no signal handler runs, so nothing needs to be async-signal-safe.
#[derive(Debug)]
pub struct Signals {
    set: libc::sigset_t,
}

/// The signals a gateway and the demo act on.
pub const SIGHUP: i32 = libc::SIGHUP;
/// Clean shutdown.
pub const SIGTERM: i32 = libc::SIGTERM;
/// Ctrl-C.
pub const SIGINT: i32 = libc::SIGINT;

impl Signals {
    /// Blocks `signals` in the calling thread. Call it before starting
    /// threads, so that they inherit the mask and the signals wait for
    /// [`Signals::wait`].
    pub fn block(signals: &[i32]) -> io::Result<Signals> {
        // SAFETY: sigset_t is a plain C bit set; sigemptyset initialises it
        // fully before it is read.
        let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: `set` is a valid, writable sigset_t.
        unsafe { libc::sigemptyset(&mut set) };
        for &s in signals {
            // SAFETY: `set` is an initialised sigset_t; an invalid signal
            // number makes sigaddset fail with EINVAL, which we report.
            if unsafe { libc::sigaddset(&mut set, s) } < 0 {
                return Err(io::Error::last_os_error());
            }
        }
        // SAFETY: `set` is initialised; a null old-set pointer is allowed.
        let r = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
        if r != 0 {
            return Err(io::Error::from_raw_os_error(r));
        }
        Ok(Signals { set })
    }

    /// Waits for one of the blocked signals and returns its number.
    pub fn wait(&self) -> io::Result<i32> {
        let mut sig: libc::c_int = 0;
        // SAFETY: `self.set` is an initialised sigset_t and `sig` a valid
        // out-pointer, both alive across the call.
        let r = unsafe { libc::sigwait(&self.set, &mut sig) };
        if r != 0 {
            return Err(io::Error::from_raw_os_error(r));
        }
        Ok(sig)
    }
}

/// The name of a signal number, for logs.
pub fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGHUP => "SIGHUP",
        libc::SIGTERM => "SIGTERM",
        libc::SIGINT => "SIGINT",
        _ => "signal",
    }
}

/// Sends `sig` to process `pid` (for the demo and tests that drive a
/// gateway they started).
pub fn kill(pid: u32, sig: i32) -> io::Result<()> {
    let pid = libc::pid_t::try_from(pid).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: kill(2) takes plain integers and has no memory preconditions.
    if unsafe { libc::kill(pid, sig) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Makes `cmd`'s child start with an empty signal mask. A blocked signal
/// stays blocked across fork and exec, and std does not reset the mask, so
/// without this a child of a process that used [`Signals::block`] could not
/// be stopped with SIGTERM or Ctrl-C.
pub fn unblock_signals_in_child(cmd: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure runs in the child between fork and exec, where
    // only async-signal-safe functions may be called: sigemptyset and
    // pthread_sigmask (sigprocmask) are, and the closure touches no lock and
    // allocates nothing (the set is on its stack).
    unsafe {
        cmd.pre_exec(|| {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            let r = libc::pthread_sigmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
            if r != 0 {
                return Err(io::Error::from_raw_os_error(r));
            }
            Ok(())
        });
    }
}
