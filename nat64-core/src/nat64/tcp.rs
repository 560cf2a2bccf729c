//! The TCP session state machine of RFC 6146 section 3.5.2.2, as a pure
//! function: (state, segment seen) -> (new state, which lifetime applies).

use super::table::TcpState;

/// Which side a segment came from, and its flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// From the IPv6 side.
    pub from_v6: bool,
    /// SYN set.
    pub syn: bool,
    /// FIN set.
    pub fin: bool,
    /// RST set.
    pub rst: bool,
}

impl Segment {
    /// Reads the flags of a TCP header (at least 14 bytes).
    pub fn parse(tcp: &[u8], from_v6: bool) -> Option<Segment> {
        let f = *tcp.get(13)?;
        Some(Segment {
            from_v6,
            syn: f & 0x02 != 0,
            fin: f & 0x01 != 0,
            rst: f & 0x04 != 0,
        })
    }
}

/// The lifetime a transition asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifetime {
    /// TCP_EST (2 h 4 min by default).
    Established,
    /// TCP_TRANS (4 min by default).
    Transitory,
    /// Leave the expiry as it is.
    Keep,
}

/// RFC 6146 section 3.5.2.2. `rst_in_fin_rcv` is Jool's
/// `handle-rst-during-fin-rcv`: an RST in V4/V6 FIN RCV goes to TRANS.
pub fn transition(state: TcpState, seg: Segment, rst_in_fin_rcv: bool) -> (TcpState, Lifetime) {
    use Lifetime::{Keep, Transitory};
    use TcpState::{Closed, None, Trans, V4FinRcv, V4FinV6FinRcv, V4Init, V6FinRcv, V6Init};
    const EST: TcpState = TcpState::Established;
    const LEST: Lifetime = Lifetime::Established;
    match state {
        None | Closed => {
            if seg.syn {
                (if seg.from_v6 { V6Init } else { V4Init }, Transitory)
            } else {
                (state, Keep)
            }
        }
        V4Init => {
            if seg.from_v6 && seg.syn {
                (EST, LEST)
            } else {
                (V4Init, Keep)
            }
        }
        V6Init => {
            if !seg.from_v6 && seg.syn {
                (EST, LEST)
            } else if seg.from_v6 && seg.syn {
                (V6Init, Transitory)
            } else {
                (V6Init, Keep)
            }
        }
        EST => {
            if seg.rst {
                (Trans, Transitory)
            } else if seg.fin {
                (if seg.from_v6 { V6FinRcv } else { V4FinRcv }, LEST)
            } else {
                (EST, LEST)
            }
        }
        V4FinRcv => {
            if seg.from_v6 && seg.fin {
                (V4FinV6FinRcv, Transitory)
            } else if seg.rst && rst_in_fin_rcv {
                (Trans, Transitory)
            } else {
                (V4FinRcv, LEST)
            }
        }
        V6FinRcv => {
            if !seg.from_v6 && seg.fin {
                (V4FinV6FinRcv, Transitory)
            } else if seg.rst && rst_in_fin_rcv {
                (Trans, Transitory)
            } else {
                (V6FinRcv, LEST)
            }
        }
        V4FinV6FinRcv => (V4FinV6FinRcv, Keep),
        Trans => {
            if seg.rst {
                (Trans, Keep)
            } else {
                (EST, LEST)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TcpState::*;

    fn s(from_v6: bool, flags: &str) -> Segment {
        Segment {
            from_v6,
            syn: flags.contains('S'),
            fin: flags.contains('F'),
            rst: flags.contains('R'),
        }
    }

    /// Every arrow of the RFC 6146 section 3.5.2.2 state machine.
    #[test]
    fn every_transition() {
        let rows = [
            (Closed, s(true, "S"), V6Init, Lifetime::Transitory),
            (Closed, s(false, "S"), V4Init, Lifetime::Transitory),
            (Closed, s(true, "A"), Closed, Lifetime::Keep),
            (V6Init, s(false, "S"), Established, Lifetime::Established),
            (V6Init, s(true, "S"), V6Init, Lifetime::Transitory),
            (V6Init, s(true, "A"), V6Init, Lifetime::Keep),
            (V4Init, s(true, "S"), Established, Lifetime::Established),
            (V4Init, s(false, "S"), V4Init, Lifetime::Keep),
            (Established, s(true, "A"), Established, Lifetime::Established),
            (Established, s(false, "A"), Established, Lifetime::Established),
            (Established, s(false, "F"), V4FinRcv, Lifetime::Established),
            (Established, s(true, "F"), V6FinRcv, Lifetime::Established),
            (Established, s(true, "R"), Trans, Lifetime::Transitory),
            (Established, s(false, "R"), Trans, Lifetime::Transitory),
            (V4FinRcv, s(true, "F"), V4FinV6FinRcv, Lifetime::Transitory),
            (V4FinRcv, s(false, "A"), V4FinRcv, Lifetime::Established),
            (V4FinRcv, s(true, "R"), V4FinRcv, Lifetime::Established),
            (V6FinRcv, s(false, "F"), V4FinV6FinRcv, Lifetime::Transitory),
            (V6FinRcv, s(true, "A"), V6FinRcv, Lifetime::Established),
            (V4FinV6FinRcv, s(true, "A"), V4FinV6FinRcv, Lifetime::Keep),
            (Trans, s(true, "A"), Established, Lifetime::Established),
            (Trans, s(false, "R"), Trans, Lifetime::Keep),
        ];
        for (from, seg, to, life) in rows {
            assert_eq!(transition(from, seg, false), (to, life), "{from:?} {seg:?}");
        }
        assert_eq!(transition(V4FinRcv, s(true, "R"), true), (Trans, Lifetime::Transitory));
    }
}
