//! Network interfaces and their addresses, read like `ip addr` does: netlink
//! `RTM_GETLINK` (name, flags, MTU, hardware address) and `RTM_GETADDR` (each address
//! with its prefix length and, on IPv4, its broadcast address).
//!
//! This is what the course uses `ifconfig` for, and what a broadcast sender needs: the
//! broadcast address of a network is its address with every host bit set
//! (192.168.1.0/24 -> 192.168.1.255), and the interface must carry the BROADCAST flag.

use std::collections::BTreeMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::netlink::{attrs, dump, u32_at};

const NETLINK_ROUTE: i32 = 0;
const RTM_GETLINK: u16 = 18;
const RTM_GETADDR: u16 = 22;

/// The interface flags worth naming (`include/uapi/linux/if.h`).
pub const FLAG_NAMES: &[(u32, &str)] = &[
    (0x1, "UP"),
    (0x2, "BROADCAST"),
    (0x8, "LOOPBACK"),
    (0x10, "POINTOPOINT"),
    (0x40, "RUNNING"),
    (0x80, "NOARP"),
    (0x100, "PROMISC"),
    (0x1000, "MULTICAST"),
    (0x10000, "LOWER_UP"),
];

/// One address of an interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfAddr {
    /// The address.
    pub addr: IpAddr,
    /// How many leading bits name the network (the netmask, as a count).
    pub prefix: u8,
    /// The IPv4 broadcast address, when the interface has one.
    pub broadcast: Option<Ipv4Addr>,
}

/// One network interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    /// Kernel index.
    pub index: u32,
    /// Name (`lo`, `eth0`).
    pub name: String,
    /// Largest IP packet the link carries.
    pub mtu: u32,
    /// Raw `IFF_*` flags.
    pub flags: u32,
    /// Hardware (MAC) address, if any.
    pub mac: Option<String>,
    /// Its addresses.
    pub addrs: Vec<IfAddr>,
}

impl Interface {
    /// The flags by name (`UP`, `LOOPBACK`, ...).
    pub fn flag_names(&self) -> Vec<&'static str> {
        FLAG_NAMES
            .iter()
            .filter(|(bit, _)| self.flags & bit != 0)
            .map(|(_, n)| *n)
            .collect()
    }
}

/// The netmask of a prefix length (`24` -> `255.255.255.0`).
pub fn netmask_v4(prefix: u8) -> Ipv4Addr {
    let p = u32::from(prefix.min(32));
    Ipv4Addr::from(if p == 0 { 0 } else { u32::MAX << (32 - p) })
}

/// Lists every interface with its addresses.
pub fn list() -> io::Result<Vec<Interface>> {
    let mut by_index: BTreeMap<u32, Interface> = BTreeMap::new();
    // ifinfomsg: family, pad, type, index, flags, change (16 bytes).
    dump(NETLINK_ROUTE, RTM_GETLINK, &[0u8; 16], |_, b| {
        if b.len() < 16 {
            return;
        }
        let index = u32_at(b, 4);
        let flags = u32_at(b, 8);
        let mut iface = Interface {
            index,
            name: String::new(),
            mtu: 0,
            flags,
            mac: None,
            addrs: Vec::new(),
        };
        for (ty, v) in attrs(&b[16..]) {
            match ty {
                3 => {
                    iface.name = String::from_utf8_lossy(v)
                        .trim_end_matches('\0')
                        .to_string()
                }
                4 => iface.mtu = u32_at(v, 0),
                1 if v.len() == 6 => {
                    iface.mac = Some(
                        v.iter()
                            .map(|x| format!("{x:02x}"))
                            .collect::<Vec<_>>()
                            .join(":"),
                    )
                }
                _ => {}
            }
        }
        by_index.insert(index, iface);
    })?;
    // ifaddrmsg: family, prefixlen, flags, scope, index (8 bytes).
    dump(NETLINK_ROUTE, RTM_GETADDR, &[0u8; 8], |_, b| {
        if b.len() < 8 {
            return;
        }
        let family = b[0];
        let prefix = b[1];
        let index = u32_at(b, 4);
        let (mut address, mut local, mut broadcast) = (None, None, None);
        for (ty, v) in attrs(&b[8..]) {
            let ip = match (family as i32, v.len()) {
                (libc::AF_INET, 4) => Some(IpAddr::V4(Ipv4Addr::new(v[0], v[1], v[2], v[3]))),
                (libc::AF_INET6, 16) => {
                    let mut o = [0u8; 16];
                    o.copy_from_slice(v);
                    Some(IpAddr::V6(Ipv6Addr::from(o)))
                }
                _ => None,
            };
            match ty {
                1 => address = ip,
                2 => local = ip,
                4 => broadcast = ip,
                _ => {}
            }
        }
        // IFA_LOCAL is the interface's own address (IFA_ADDRESS is the peer on a
        // point-to-point link); IPv6 sends only IFA_ADDRESS.
        if let (Some(addr), Some(iface)) = (local.or(address), by_index.get_mut(&index)) {
            iface.addrs.push(IfAddr {
                addr,
                prefix,
                broadcast: match broadcast {
                    Some(IpAddr::V4(b)) => Some(b),
                    _ => None,
                },
            });
        }
    })?;
    Ok(by_index.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_listed_with_its_address() {
        let all = list().expect("netlink route");
        let lo = all.iter().find(|i| i.name == "lo").expect("lo");
        assert!(lo.flag_names().contains(&"LOOPBACK"));
        assert!(lo
            .addrs
            .iter()
            .any(|a| a.addr == IpAddr::from([127, 0, 0, 1]) && a.prefix == 8));
        assert_eq!(netmask_v4(24), Ipv4Addr::new(255, 255, 255, 0));
        assert_eq!(netmask_v4(0), Ipv4Addr::UNSPECIFIED);
    }
}
