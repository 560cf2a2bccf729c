//! The two system calls std does not wrap that the resolver needs, and so
//! every `unsafe` block of this crate. Each block says why it is sound.

use std::io;
use std::os::fd::AsRawFd;

/// Raises the soft limit on open file descriptors to the hard limit and
/// returns the new soft limit. A DNS resolver holds one socket per upstream
/// query in flight and one per TCP client; the common soft default (1024)
/// is reached by a burst of queries for a silent zone long before the
/// resolver's own caps, and every other client then gets SERVFAIL.
pub fn raise_nofile_limit() -> io::Result<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit into the struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } < 0 {
        return Err(io::Error::last_os_error());
    }
    if lim.rlim_cur < lim.rlim_max {
        let want = libc::rlimit {
            rlim_cur: lim.rlim_max,
            rlim_max: lim.rlim_max,
        };
        // SAFETY: setrlimit only reads the struct we pass.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &want) } < 0 {
            return Err(io::Error::last_os_error());
        }
        lim.rlim_cur = lim.rlim_max;
    }
    Ok(lim.rlim_cur)
}

/// Asks for a socket receive buffer of `bytes` and returns what the kernel
/// granted (as `getsockopt` reports it: twice the usable size on Linux).
/// `SO_RCVBUFFORCE` first (root or CAP_NET_ADMIN may exceed
/// `net.core.rmem_max`), then `SO_RCVBUF`, which the kernel caps at
/// `rmem_max`. A burst of UDP queries larger than the default buffer (about
/// 200 KiB) is otherwise dropped by the kernel before the resolver sees it.
pub fn set_recv_buffer(sock: &impl std::os::fd::AsFd, bytes: usize) -> io::Result<usize> {
    let fd = sock.as_fd().as_raw_fd();
    let v = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
    let len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    for opt in [libc::SO_RCVBUFFORCE, libc::SO_RCVBUF] {
        // SAFETY: setsockopt reads `len` bytes from a c_int we own; `fd` is
        // open for the call (borrowed from `sock`).
        let r = unsafe { libc::setsockopt(fd, libc::SOL_SOCKET, opt, (&v as *const libc::c_int).cast(), len) };
        if r == 0 {
            break;
        }
    }
    let mut got: libc::c_int = 0;
    let mut got_len = len;
    // SAFETY: getsockopt writes at most `got_len` bytes into a c_int we
    // own; `fd` is open for the call (borrowed from `sock`).
    let r = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&mut got as *mut libc::c_int).cast(),
            &mut got_len,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(usize::try_from(got).unwrap_or(0))
}
