//! STUB: the kernel's netfilter log packet format (being written).

/// Writes the packet part of a kernel netfilter log line, from `MAC=` on.
pub fn packet_fields(_out: &mut String, _mac: Option<&[u8]>, _ip: &[u8]) {}
