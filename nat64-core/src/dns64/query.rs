//! A client's query, checked before anything else is done with it.

use super::wire::{flags, rcode, Edns, Message, WireError, HEADER_LEN};

/// Why a client message gets no normal answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    /// Shorter than a header, or a response: never answered (answering
    /// responses invites loops, RFC 1035 section 7.3).
    #[error("not a DNS query (shorter than 12 bytes, or QR set): dropped without an answer")]
    Ignore,
    /// Malformed: answer FORMERR.
    #[error("malformed query ({0}): answer FORMERR")]
    FormErr(WireError),
    /// An OPCODE other than QUERY: answer NOTIMP.
    #[error("opcode {0} is not QUERY (0): answer NOTIMP")]
    NotImp(u8),
    /// EDNS version above 0: answer BADVERS (RFC 6891 section 6.1.3).
    #[error("EDNS version {0} is not supported (only 0): answer BADVERS")]
    BadVers(u8),
}

impl QueryError {
    /// The RCODE to answer with, or `None` to stay silent.
    pub fn rcode(&self) -> Option<u16> {
        match self {
            QueryError::Ignore => None,
            QueryError::FormErr(_) => Some(rcode::FORMERR),
            QueryError::NotImp(_) => Some(rcode::NOTIMP),
            QueryError::BadVers(_) => Some(rcode::BADVERS),
        }
    }
}

/// A checked client query: one question, opcode QUERY, at most one OPT
/// record of EDNS version 0.
#[derive(Debug, Clone, Copy)]
pub struct Query<'a> {
    msg: Message<'a>,
}

impl<'a> Query<'a> {
    /// Checks a client's message.
    pub fn parse(buf: &'a [u8]) -> Result<Self, QueryError> {
        if buf.len() < HEADER_LEN || buf[2] & 0x80 != 0 {
            return Err(QueryError::Ignore);
        }
        let opcode = (buf[2] >> 3) & 0xf;
        if opcode != 0 {
            return Err(QueryError::NotImp(opcode));
        }
        let msg = Message::parse(buf).map_err(QueryError::FormErr)?;
        if !msg.has_question() {
            return Err(QueryError::FormErr(WireError {
                what: "query without a question",
                offset: 4,
            }));
        }
        if let Some(e) = msg.edns() {
            if e.version != 0 {
                return Err(QueryError::BadVers(e.version));
            }
        }
        Ok(Query { msg })
    }
    /// The message.
    pub fn message(&self) -> &Message<'a> {
        &self.msg
    }
    /// ID.
    pub fn id(&self) -> u16 {
        self.msg.id()
    }
    /// QTYPE.
    pub fn qtype(&self) -> u16 {
        self.msg.qtype()
    }
    /// QCLASS.
    pub fn qclass(&self) -> u16 {
        self.msg.qclass()
    }
    /// QNAME in wire format, as the client spelt it.
    pub fn qname_wire(&self) -> &'a [u8] {
        self.msg.qname_wire()
    }
    /// EDNS(0) parameters.
    pub fn edns(&self) -> Option<Edns> {
        self.msg.edns()
    }
    /// DNSSEC OK (RFC 3225).
    pub fn dnssec_ok(&self) -> bool {
        self.edns().is_some_and(|e| e.dnssec_ok)
    }
    /// Checking Disabled (RFC 4035 section 3.2.2).
    pub fn checking_disabled(&self) -> bool {
        self.msg.flags() & flags::CD != 0
    }
    /// Recursion Desired.
    pub fn recursion_desired(&self) -> bool {
        self.msg.flags() & flags::RD != 0
    }
}
