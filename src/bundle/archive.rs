//! The zip container, read straight from the bytes with every offset and
//! length checked against them. A bundle needs only the central directory and
//! each entry's data: no streaming, writing or encryption, which a general zip
//! crate brings into the wasm (about 60 KB, and its compile time at every run).

/// One entry as the central directory describes it, its data not yet inflated.
pub struct Member<'a> {
    pub name: &'a [u8],
    /// The Unix mode bits, when a Unix zip tool made the entry.
    pub unix_mode: Option<u32>,
    pub encrypted: bool,
    pub method: u16,
    pub crc32: u32,
    /// What the header claims the entry inflates to: the inflated size is checked too.
    pub size: u64,
    pub compressed: &'a [u8],
}

const END_OF_DIRECTORY: u32 = 0x0605_4b50;
const ZIP64_END_OF_DIRECTORY: u32 = 0x0606_4b50;
const ZIP64_LOCATOR: u32 = 0x0706_4b50;
const CENTRAL_HEADER: u32 = 0x0201_4b50;
const LOCAL_HEADER: u32 = 0x0403_4b50;
const ZIP64_EXTRA: u16 = 0x0001;
const UNIX_HOST: u16 = 3;

fn corrupt(what: &str) -> String {
    format!("it is not a zip file or it is corrupt ({what})")
}

fn unsupported(what: &str) -> String {
    format!("it uses a zip feature MKE bundles never use ({what})")
}

/// Little-endian fields at offsets that may lie: every read is checked.
struct Bytes<'a>(&'a [u8]);

impl<'a> Bytes<'a> {
    fn slice(&self, at: u64, len: u64) -> Option<&'a [u8]> {
        let start = usize::try_from(at).ok()?;
        let end = start.checked_add(usize::try_from(len).ok()?)?;
        self.0.get(start..end)
    }
    fn u16(&self, at: u64) -> Option<u16> {
        self.slice(at, 2).map(|b| u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&self, at: u64) -> Option<u32> {
        self.slice(at, 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&self, at: u64) -> Option<u64> {
        self.slice(at, 8).map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
    }
}

/// Where the central directory is and how many entries it has.
struct Directory {
    entries: u64,
    offset: u64,
    size: u64,
}

/// The end of central directory record: searched backwards, as a comment of up
/// to 64 KiB may follow it; its comment length must reach exactly the end.
fn directory(zip: &Bytes) -> Result<Directory, String> {
    let len = zip.0.len() as u64;
    let earliest = len.saturating_sub(22 + 0xFFFF);
    let end = (earliest..=len.saturating_sub(22))
        .rev()
        .find(|&at| zip.u32(at) == Some(END_OF_DIRECTORY) && zip.u16(at + 20).is_some_and(|c| at + 22 + u64::from(c) == len))
        .ok_or_else(|| corrupt("no end of central directory record"))?;
    let field = |offset| zip.u16(end + offset).expect("inside the record");
    let wide = |offset| zip.u32(end + offset).expect("inside the record");
    if field(4) != 0 || field(6) != 0 || field(8) != field(10) {
        return Err(unsupported("it spans several disks"));
    }
    let directory = Directory { entries: field(10).into(), size: wide(12).into(), offset: wide(16).into() };
    if directory.entries != 0xFFFF && directory.size != 0xFFFF_FFFF && directory.offset != 0xFFFF_FFFF {
        return Ok(directory);
    }
    // Zip64: the locator just before the record points to the wider one.
    let zip64 = end
        .checked_sub(20)
        .filter(|&at| zip.u32(at) == Some(ZIP64_LOCATOR))
        .and_then(|at| zip.u64(at + 8))
        .filter(|&at| zip.u32(at) == Some(ZIP64_END_OF_DIRECTORY))
        .ok_or_else(|| corrupt("a zip64 end of central directory is missing"))?;
    let read = |offset| zip.u64(zip64 + offset).ok_or_else(|| corrupt("the zip64 end of central directory is cut short"));
    Ok(Directory { entries: read(32)?, size: read(40)?, offset: read(48)? })
}

/// Every entry of the central directory, with its data located and bounds-checked.
pub fn members(zip: &[u8]) -> Result<Vec<Member<'_>>, String> {
    let zip = Bytes(zip);
    let directory = directory(&zip)?;
    let listing = zip.slice(directory.offset, directory.size).ok_or_else(|| corrupt("the central directory is outside the file"))?;
    let listing = Bytes(listing);
    // Each entry takes at least 46 bytes: a count the directory cannot hold is a lie.
    if directory.entries > listing.0.len() as u64 / 46 {
        return Err(corrupt("the central directory is shorter than its entry count"));
    }
    let mut members = Vec::with_capacity(directory.entries as usize);
    let mut at = 0u64;
    for _ in 0..directory.entries {
        let cut_short = || corrupt("a central directory entry is cut short");
        if listing.u32(at) != Some(CENTRAL_HEADER) {
            return Err(corrupt("a central directory entry has a bad signature"));
        }
        let field = |offset| listing.u16(at + offset).ok_or_else(cut_short);
        let wide = |offset| listing.u32(at + offset).ok_or_else(cut_short);
        let (name_len, extra_len, comment_len) = (u64::from(field(28)?), u64::from(field(30)?), u64::from(field(32)?));
        let name = listing.slice(at + 46, name_len).ok_or_else(cut_short)?;
        let extra = listing.slice(at + 46 + name_len, extra_len).ok_or_else(cut_short)?;
        let mut compressed_size = u64::from(wide(20)?);
        let mut size = u64::from(wide(24)?);
        let mut local = u64::from(wide(42)?);
        if field(34)? != 0 {
            return Err(unsupported("an entry is on another disk"));
        }
        // Zip64 sizes replace, in this order, only the fields saturated in the header.
        let mut wider = zip64_fields(extra);
        for value in [&mut size, &mut compressed_size, &mut local] {
            if *value == 0xFFFF_FFFF {
                *value = wider.next().ok_or_else(|| corrupt("an entry's zip64 sizes are missing"))?;
            }
        }
        let host = field(4)? >> 8;
        let flags = field(8)?;
        members.push(Member {
            name,
            unix_mode: (host == UNIX_HOST).then_some(wide(38)? >> 16),
            encrypted: flags & 1 == 1,
            method: field(10)?,
            crc32: wide(16)?,
            size,
            compressed: data(&zip, local, compressed_size)?,
        });
        at += 46 + name_len + extra_len + comment_len;
    }
    Ok(members)
}

/// The zip64 extended information's values, if the extra field has one.
fn zip64_fields(extra: &[u8]) -> impl Iterator<Item = u64> + '_ {
    let mut rest = extra;
    let mut found: &[u8] = &[];
    while rest.len() >= 4 {
        let (id, len) = (u16::from_le_bytes([rest[0], rest[1]]), usize::from(u16::from_le_bytes([rest[2], rest[3]])));
        let Some(body) = rest.get(4..4 + len) else { break };
        if id == ZIP64_EXTRA {
            found = body;
            break;
        }
        rest = &rest[4 + len..];
    }
    found.chunks_exact(8).map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
}

/// An entry's compressed bytes, after its local header (whose own sizes may be
/// zero when a data descriptor follows: the central directory's are used).
fn data<'a>(zip: &Bytes<'a>, local: u64, compressed_size: u64) -> Result<&'a [u8], String> {
    if zip.u32(local) != Some(LOCAL_HEADER) {
        return Err(corrupt("an entry's local header is missing"));
    }
    let cut_short = || corrupt("an entry is cut short");
    let name_len = u64::from(zip.u16(local + 26).ok_or_else(cut_short)?);
    let extra_len = u64::from(zip.u16(local + 28).ok_or_else(cut_short)?);
    let start = local.checked_add(30 + name_len + extra_len).ok_or_else(cut_short)?;
    zip.slice(start, compressed_size).ok_or_else(cut_short)
}
