//! The inventory: what the operators know about their own addresses (a name, a group, a colour).
//!
//! Two file formats. CSV, one entry per row, `address-or-subnet,name,group,colour` (an optional
//! header row may name the columns in another order: `subnet`, `name`, `group`, `color`):
//!
//! ```text
//! 10.1.0.0/16,servers,Data centre,#3366cc
//! 10.1.2.3,build box,Data centre
//! ```
//!
//! Or TOML (a file ending in `.toml`):
//!
//! ```toml
//! [[hosts]]
//! subnet = "10.1.0.0/16"
//! name = "servers"
//! group = "Data centre"
//! color = "#3366cc"
//! ```
//!
//! An address matches the most specific entry covering it.

use ipnet::IpNet;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

/// What the inventory says about one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostLabel {
    pub name: Option<String>,
    pub group: Option<String>,
    /// `#rrggbb`, lowercase.
    pub color: Option<String>,
}

/// Why an inventory file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error("cannot read inventory {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("inventory {path}, line {line}: {reason}")]
    Line {
        path: String,
        line: u64,
        reason: String,
    },
}

/// Subnets to labels, matched most specific first.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    /// Per prefix length, longest first: network address → label.
    by_prefix: BTreeMap<std::cmp::Reverse<(bool, u8)>, rustc_hash::FxHashMap<IpAddr, HostLabel>>,
    entries: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlInventory {
    #[serde(default)]
    hosts: Vec<TomlHost>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlHost {
    #[serde(alias = "address", alias = "addr")]
    subnet: String,
    name: Option<String>,
    group: Option<String>,
    #[serde(alias = "colour")]
    color: Option<String>,
}

impl Inventory {
    /// Reads a `.toml` or CSV inventory file.
    pub fn load(path: &Path) -> Result<Inventory, InventoryError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| InventoryError::Read {
            path: shown.clone(),
            source,
        })?;
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("toml"))
        {
            Inventory::from_toml(&text, &shown)
        } else {
            Inventory::from_csv(&text, &shown)
        }
    }

    /// Parses CSV text; `origin` names it in errors.
    pub fn from_csv(text: &str, origin: &str) -> Result<Inventory, InventoryError> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .comment(Some(b'#'))
            .from_reader(text.as_bytes());
        let mut inventory = Inventory::default();
        // Column positions of subnet, name, group, colour.
        let mut columns = [0usize, 1, 2, 3];
        let mut first = true;
        for row in reader.records() {
            let row = row.map_err(|e| InventoryError::Line {
                path: origin.to_string(),
                line: e.position().map_or(0, |p| p.line()),
                reason: e.to_string(),
            })?;
            let line = row.position().map_or(0, |p| p.line());
            let error = |reason: String| InventoryError::Line {
                path: origin.to_string(),
                line,
                reason,
            };
            if row.iter().all(str::is_empty) {
                continue;
            }
            if std::mem::take(&mut first) && parse_subnet(&row[0]).is_err() {
                columns = header_columns(&row).map_err(error)?;
                continue;
            }
            let field = |i: usize| row.get(columns[i]).unwrap_or("");
            inventory
                .insert(field(0), field(1), field(2), field(3))
                .map_err(error)?;
        }
        Ok(inventory)
    }

    /// Parses TOML text (`[[hosts]]` tables); `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Inventory, InventoryError> {
        let line_of =
            |offset: usize| text[..offset.min(text.len())].matches('\n').count() as u64 + 1;
        let parsed: TomlInventory = toml::from_str(text).map_err(|e| InventoryError::Line {
            path: origin.to_string(),
            line: e.span().map_or(0, |s| line_of(s.start)),
            reason: e.message().trim().to_string(),
        })?;
        let mut inventory = Inventory::default();
        for (i, host) in parsed.hosts.iter().enumerate() {
            inventory
                .insert(
                    &host.subnet,
                    host.name.as_deref().unwrap_or(""),
                    host.group.as_deref().unwrap_or(""),
                    host.color.as_deref().unwrap_or(""),
                )
                .map_err(|reason| InventoryError::Line {
                    path: origin.to_string(),
                    line: 0,
                    reason: format!("hosts[{i}]: {reason}"),
                })?;
        }
        Ok(inventory)
    }

    fn insert(&mut self, subnet: &str, name: &str, group: &str, color: &str) -> Result<(), String> {
        let net = parse_subnet(subnet)?;
        let label = HostLabel {
            name: non_empty(name),
            group: non_empty(group),
            color: if color.trim().is_empty() {
                None
            } else {
                Some(parse_color(color)?)
            },
        };
        if label.name.is_none() && label.group.is_none() && label.color.is_none() {
            return Err(format!(
                "{subnet}: give at least a name, a group or a colour"
            ));
        }
        let key = std::cmp::Reverse((net.addr().is_ipv6(), net.prefix_len()));
        if self
            .by_prefix
            .entry(key)
            .or_default()
            .insert(net.network(), label)
            .is_some()
        {
            return Err(format!("{net} is listed twice"));
        }
        self.entries += 1;
        Ok(())
    }

    /// The label of the most specific entry covering `addr`.
    pub fn lookup(&self, addr: IpAddr) -> Option<&HostLabel> {
        let addr = canonical(addr);
        self.by_prefix
            .iter()
            .filter(|(key, _)| key.0.0 == addr.is_ipv6())
            .find_map(|(key, nets)| {
                let network = IpNet::new(addr, key.0.1).ok()?.network();
                nets.get(&network)
            })
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries
    }

    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }
}

/// IPv4-mapped IPv6 addresses match IPv4 entries.
fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
        v4 => v4,
    }
}

fn parse_subnet(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    if let Ok(net) = text.parse::<IpNet>() {
        return Ok(IpNet::new(canonical(net.addr()), net.prefix_len())
            .unwrap_or(net)
            .trunc());
    }
    text.parse::<IpAddr>()
        .map(|addr| IpNet::from(canonical(addr)))
        .map_err(|_| format!("{text:?} is not an address or subnet (10.1.0.0/16, 2001:db8::/32)"))
}

fn header_columns(row: &csv::StringRecord) -> Result<[usize; 4], String> {
    let mut columns = [usize::MAX; 4];
    for (i, title) in row.iter().enumerate() {
        let slot = match title.to_ascii_lowercase().as_str() {
            "subnet" | "address" | "addr" | "cidr" | "network" => 0,
            "name" => 1,
            "group" => 2,
            "color" | "colour" => 3,
            other => {
                return Err(format!(
                    "unknown column {other:?} (expected subnet, name, group, color)"
                ));
            }
        };
        columns[slot] = i;
    }
    if columns[0] == usize::MAX {
        return Err(format!(
            "the first row is neither an entry ({:?} is not an address or subnet) nor a header with a subnet column",
            &row[0]
        ));
    }
    Ok(columns)
}

fn non_empty(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

/// `#rgb` or `#rrggbb` → `#rrggbb`.
fn parse_color(text: &str) -> Result<String, String> {
    let hex = text.trim().strip_prefix('#').unwrap_or(text.trim());
    let bad = || format!("colour {text:?} is not #rgb or #rrggbb");
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    match hex.len() {
        6 => Ok(format!("#{}", hex.to_ascii_lowercase())),
        3 => Ok(hex
            .chars()
            .flat_map(|c| [c, c])
            .fold(String::from("#"), |mut s, c| {
                s.push(c.to_ascii_lowercase());
                s
            })),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn the_most_specific_entry_wins() {
        let inventory = Inventory::from_csv(
            "10.0.0.0/8,corp,Office\n10.1.0.0/16,servers,Data centre,#36C\n10.1.2.3,build box,,#ff8800\n2001:db8::/32,v6 lab,Lab\n",
            "test.csv",
        )
        .unwrap();
        assert_eq!(inventory.len(), 4);
        let label = inventory.lookup(addr("10.1.2.3")).unwrap();
        assert_eq!(label.name.as_deref(), Some("build box"));
        assert_eq!(label.group, None);
        assert_eq!(label.color.as_deref(), Some("#ff8800"));
        let label = inventory.lookup(addr("10.1.9.9")).unwrap();
        assert_eq!(
            (label.name.as_deref(), label.group.as_deref()),
            (Some("servers"), Some("Data centre"))
        );
        assert_eq!(label.color.as_deref(), Some("#3366cc"));
        assert_eq!(
            inventory
                .lookup(addr("10.200.0.1"))
                .unwrap()
                .name
                .as_deref(),
            Some("corp")
        );
        assert_eq!(
            inventory
                .lookup(addr("::ffff:10.200.0.1"))
                .unwrap()
                .name
                .as_deref(),
            Some("corp")
        );
        assert_eq!(
            inventory
                .lookup(addr("2001:db8:1::5"))
                .unwrap()
                .name
                .as_deref(),
            Some("v6 lab")
        );
        assert!(inventory.lookup(addr("192.168.1.1")).is_none());
    }

    #[test]
    fn a_header_row_orders_the_columns() {
        let inventory = Inventory::from_csv(
            "group,colour,subnet,name\nDMZ,#abcdef,192.0.2.0/24,\"web, public\"\n",
            "t.csv",
        )
        .unwrap();
        let label = inventory.lookup(addr("192.0.2.7")).unwrap();
        assert_eq!(label.name.as_deref(), Some("web, public"));
        assert_eq!(label.group.as_deref(), Some("DMZ"));
    }

    #[test]
    fn toml_inventories_are_read() {
        let inventory = Inventory::from_toml(
            "[[hosts]]\nsubnet = \"10.1.0.0/16\"\nname = \"servers\"\ngroup = \"DC\"\ncolor = \"#123456\"\n",
            "inv.toml",
        )
        .unwrap();
        assert_eq!(
            inventory.lookup(addr("10.1.0.1")).unwrap().group.as_deref(),
            Some("DC")
        );
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let error = Inventory::from_csv("10.0.0.0/8,a\n10.0.0.300,b\n", "hosts.csv")
            .unwrap_err()
            .to_string();
        assert!(error.contains("hosts.csv, line 2"), "{error}");
        let error = Inventory::from_csv("10.0.0.0/8,a,b,#12\n", "hosts.csv")
            .unwrap_err()
            .to_string();
        assert!(error.contains("colour"), "{error}");
        let error = Inventory::from_csv("10.0.0.0/8,a\n10.0.0.0/8,b\n", "h.csv")
            .unwrap_err()
            .to_string();
        assert!(error.contains("twice"), "{error}");
        let error = Inventory::from_toml("[[hosts]]\nsubnet = 5\n", "i.toml")
            .unwrap_err()
            .to_string();
        assert!(error.contains("i.toml, line 2"), "{error}");
        let error = Inventory::from_csv("10.0.0.0/8,,,\n", "h.csv")
            .unwrap_err()
            .to_string();
        assert!(error.contains("at least"), "{error}");
    }
}
