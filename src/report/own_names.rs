//! A host's own name and address in its output, read as placeholders when
//! outputs are compared.
//!
//! Configuration files name the host they are on: `ListenAddress
//! 10.0.0.7`, `# web-07`, `127.0.1.1 web-07`. Compared byte for byte, every
//! host of a fleet would then differ from every other, and the one host
//! with a really different file would drown among them. So before grouping,
//! each host's own alias becomes `{host}` and its address `{address}`
//! (where they stand as whole words), and hosts whose outputs agree but for
//! that are one group. A host that prints *another* host's name still
//! stands out. The files of `--out-dir` and the streamed lines keep every
//! byte as sent.
//!
//! What is compared is an encoding that cannot be forged: remote text as
//! it is, but for the byte 0xFF, which is doubled (0xFF 0x00), and each
//! placeholder as 0xFF and a tag; so a host that prints a literal `{host}`
//! is not taken for one that printed its own name, and how the output was
//! cut into pieces on its way does not matter.

use memchr::memmem;

/// What a host's own alias is shown as in a group.
pub(crate) const HOST: &str = "{host}";
/// What a host's own address is shown as in a group.
pub(crate) const ADDRESS: &str = "{address}";

/// Starts a placeholder, or a literal 0xFF, in the compared encoding.
const ESCAPE: u8 = 0xff;

/// The own names of one host.
#[derive(Debug, Clone)]
pub(crate) struct OwnNames {
    alias: Vec<u8>,
    /// `None` when it is the alias itself, or unknown.
    address: Option<Vec<u8>>,
}

/// A part of the output: remote text, or one of the host's own names.
enum Part<'a> {
    Text(&'a [u8]),
    Host,
    Address,
}

impl OwnNames {
    pub(crate) fn new(alias: &str, address: Option<&str>) -> OwnNames {
        OwnNames {
            alias: alias.as_bytes().to_vec(),
            address: address
                .filter(|address| !address.is_empty() && *address != alias)
                .map(|address| address.as_bytes().to_vec()),
        }
    }

    /// Appends `data` to `text` with the placeholders in, and hands its
    /// unambiguous encoding to `key`.
    pub(crate) fn normalize(&self, data: &[u8], text: &mut Vec<u8>, key: &mut impl FnMut(&[u8])) {
        self.split(data, |part| match part {
            Part::Text(bytes) => {
                let mut rest = bytes;
                while let Some(i) = memchr::memchr(ESCAPE, rest) {
                    key(&rest[..i]);
                    key(&[ESCAPE, 0]);
                    rest = &rest[i + 1..];
                }
                key(rest);
                text.extend_from_slice(bytes);
            }
            Part::Host => {
                key(&[ESCAPE, 1]);
                text.extend_from_slice(HOST.as_bytes());
            }
            Part::Address => {
                key(&[ESCAPE, 2]);
                text.extend_from_slice(ADDRESS.as_bytes());
            }
        });
    }

    fn split<'a>(&self, data: &'a [u8], mut each: impl FnMut(Part<'a>)) {
        let mut at = 0;
        while at < data.len() {
            let host = find_word(data, &self.alias, at, false).map(|i| (i, Part::Host));
            let address = self
                .address
                .as_ref()
                .and_then(|address| find_word(data, address, at, true))
                .map(|i| (i, Part::Address));
            // The earlier one; the longer one when both start at once.
            let next = match (host, address) {
                (Some(h), Some(a)) if a.0 < h.0 || (a.0 == h.0 && self.address_longer()) => Some(a),
                (Some(h), _) => Some(h),
                (None, a) => a,
            };
            let Some((start, part)) = next else { break };
            if start > at {
                each(Part::Text(&data[at..start]));
            }
            at = start
                + match part {
                    Part::Address => self.address.as_ref().map_or(0, Vec::len),
                    _ => self.alias.len(),
                };
            each(part);
        }
        if at < data.len() {
            each(Part::Text(&data[at..]));
        }
    }

    fn address_longer(&self) -> bool {
        self.address
            .as_ref()
            .is_some_and(|address| address.len() > self.alias.len())
    }
}

/// Where `needle` first stands as a whole word in `data` from `from` on:
/// not inside a longer name (`web-1` in `web-10`) or, for an address,
/// inside a longer address (`10.0.0.1` in `10.0.0.12` or `10.0.0.1.5`).
fn find_word(data: &[u8], needle: &[u8], from: usize, address: bool) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    let name_byte = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
    let mut at = from;
    while let Some(i) = memmem::find(&data[at..], needle) {
        let start = at + i;
        let end = start + needle.len();
        let before = start == 0 || !(name_byte(data[start - 1]) || data[start - 1] == b'.');
        let after = match data.get(end) {
            None => true,
            Some(&b) if name_byte(b) => false,
            Some(b'.') if address => !data.get(end + 1).is_some_and(|b| b.is_ascii_alphanumeric()),
            Some(_) => true,
        };
        if before && after {
            return Some(start);
        }
        at = start + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalized(names: &OwnNames, data: &str) -> (String, Vec<u8>) {
        let mut text = Vec::new();
        let mut key = Vec::new();
        names.normalize(data.as_bytes(), &mut text, &mut |bytes| {
            key.extend_from_slice(bytes)
        });
        (String::from_utf8(text).unwrap(), key)
    }

    #[test]
    fn own_names_become_placeholders_as_whole_words_only() {
        let names = OwnNames::new("web-1", Some("10.0.0.1"));
        let (text, _) = normalized(
            &names,
            "# web-1\nListenAddress 10.0.0.1\nweb-10 10.0.0.12 10.0.0.1.5 web-1.lan 10.0.0.1.\n",
        );
        assert_eq!(
            text,
            "# {host}\nListenAddress {address}\nweb-10 10.0.0.12 10.0.0.1.5 {host}.lan {address}.\n"
        );
    }

    #[test]
    fn hosts_that_differ_only_in_their_own_names_compare_equal() {
        let one = OwnNames::new("web-1", Some("10.0.0.1"));
        let two = OwnNames::new("web-2", Some("10.0.0.2"));
        let a = normalized(&one, "host web-1 at 10.0.0.1\n");
        let b = normalized(&two, "host web-2 at 10.0.0.2\n");
        assert_eq!(a, b);
        // Another host's name is not one's own.
        assert_ne!(normalized(&two, "host web-1 at 10.0.0.2\n").1, a.1);
    }

    #[test]
    fn how_the_output_was_cut_does_not_matter() {
        let names = OwnNames::new("web-1", None);
        let mut whole = Vec::new();
        names.normalize(b"a\xff\nweb-1\n", &mut Vec::new(), &mut |k| {
            whole.extend_from_slice(k)
        });
        let mut pieces = Vec::new();
        for piece in [&b"a\xff\n"[..], b"web-1\n"] {
            names.normalize(piece, &mut Vec::new(), &mut |k| pieces.extend_from_slice(k));
        }
        assert_eq!(whole, pieces);
        assert_eq!(whole, b"a\xff\x00\n\xff\x01\n");
    }

    #[test]
    fn a_literal_placeholder_is_not_a_name() {
        let names = OwnNames::new("web-1", None);
        let (text_a, key_a) = normalized(&names, "{host}\n");
        let (text_b, key_b) = normalized(&names, "web-1\n");
        assert_eq!(text_a, text_b);
        assert_ne!(key_a, key_b);
    }
}
