//! An MKE (UCP) client bundle: the zip is read here, refused when hostile or
//! broken, and turned into the files to write (with their modes), the secrets
//! to register and the variables that point docker, kubectl and helm at it.
//!
//! Every limit is checked before the shim writes anything, and the size limits
//! are enforced while inflating (an archive's headers can lie about sizes).

use crate::certificate;
use crate::env_files::{self, Assignment};
use crate::error::{Result, TaskError};
use crate::kubeconfig;
use crate::log_safety::neutralise_logging_commands;
use serde::{Deserialize, Serialize, Serializer};
use std::collections::{BTreeMap, BTreeSet};

mod archive;

pub const MAX_ENTRIES: usize = 256;
pub const MAX_TOTAL_BYTES: u64 = 32 * 1024 * 1024;
pub const MAX_RATIO: u64 = 200;
/// The zip itself: checked against what the shim's stat says before it reads the file.
pub const MAX_ZIP_BYTES: i64 = 64 * 1024 * 1024;

const ENV_FILES: [&str; 3] = ["env.sh", "env.ps1", "env.cmd"];
const DAY: i64 = 24 * 3600;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BundleRequest {
    /// The input the bundle came from, named in every error.
    pub input_name: String,
    /// The fresh 0700 directory the shim made for the bundle.
    pub directory: String,
    pub expiry_warning_days: i64,
    pub now_epoch_seconds: i64,
    /// Whether the input had a value (an empty filePath input arrives as null).
    pub given: bool,
    /// What the shim's stat of the path found, before it reads anything: the
    /// size, and whether it is a regular file (not a folder, device or pipe).
    /// (i64 as the other numbers here: a u64 costs its own deserializer in the wasm.)
    pub size: i64,
    pub regular_file: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedFile {
    /// Relative to the bundle directory, `/`-separated, never leaving it.
    pub path: String,
    pub mode: u32,
    /// A `Uint8Array` on the wire (serde would make a `Vec<u8>` a list of numbers).
    #[serde(serialize_with = "as_bytes")]
    pub contents: Vec<u8>,
}

fn as_bytes<S: Serializer>(bytes: &[u8], serializer: S) -> std::result::Result<S::Ok, S::Error> {
    serializer.serialize_bytes(bytes)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variable {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BundlePlan {
    pub generation: &'static str,
    /// Relative directories to create (0700), parents first.
    pub directories: Vec<String>,
    pub files: Vec<PlannedFile>,
    /// Private keys and the kubeconfig's tokens and passwords, to register before anything is printed.
    pub secrets: Vec<String>,
    pub warnings: Vec<String>,
    /// DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH, COMPOSE_TLS_VERSION, KUBECONFIG as the bundle has them.
    pub variables: Vec<Variable>,
    pub kubeconfig: Option<String>,
    pub docker_host: Option<String>,
    pub kubernetes_server: Option<String>,
    pub certificate_not_after: String,
}

/// A zip entry's name as path components inside the bundle, or why it would
/// land elsewhere.
pub fn entry_path(name: &str) -> std::result::Result<Vec<String>, &'static str> {
    if name.contains('\0') {
        return Err("has a NUL character in its name");
    }
    if name.starts_with(['/', '\\']) {
        return Err("is an absolute path");
    }
    let bytes = name.as_bytes();
    if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
        return Err("starts with a drive letter");
    }
    let mut components = Vec::new();
    for component in name.split(['/', '\\']) {
        match component {
            "" | "." => {}
            ".." => return Err("points outside the bundle (zip slip)"),
            c if c.contains(':') => return Err("has a ':' in its name"),
            c => components.push(c.to_string()),
        }
    }
    if components.is_empty() {
        return Err("has an empty name");
    }
    Ok(components)
}

struct Entry {
    path: Vec<String>,
    directory: bool,
    data: Vec<u8>,
}

fn shown(name: &str) -> String {
    let short: String = name.chars().take(80).collect();
    neutralise_logging_commands(&short.replace(['\r', '\n'], " "))
}

/// Every entry, inflated under the limits.
fn read_entries(zip: &[u8]) -> std::result::Result<Vec<Entry>, String> {
    let members = archive::members(zip)?;
    if members.len() > MAX_ENTRIES {
        return Err(format!("it has {} entries, more than the {MAX_ENTRIES} a client bundle can have", members.len()));
    }
    let mut entries = Vec::new();
    let mut total = 0u64;
    for member in members {
        let name = String::from_utf8_lossy(member.name).into_owned();
        let shown = shown(&name);
        let path = entry_path(&name).map_err(|problem| format!("the entry '{shown}' {problem}"))?;
        let file_type = member.unix_mode.unwrap_or(0) & 0o170000;
        if ![0, 0o100000, 0o040000].contains(&file_type) {
            return Err(format!("the entry '{shown}' is a symbolic link or special file"));
        }
        let directory = name.ends_with(['/', '\\']);
        let data = if directory { Vec::new() } else { inflate(&member, &shown, MAX_TOTAL_BYTES - total)? };
        total += data.len() as u64;
        entries.push(Entry { path, directory, data });
    }
    Ok(entries)
}

/// An entry's bytes, stopped as soon as they pass `total_left` or the ratio
/// limit, whatever its header claims.
fn inflate(member: &archive::Member, shown: &str, total_left: u64) -> std::result::Result<Vec<u8>, String> {
    if member.encrypted {
        return Err(format!("it uses a zip feature MKE bundles never use (the entry '{shown}' is encrypted)"));
    }
    let compressed = member.compressed.len() as u64;
    let ratio_cap = compressed.max(1).saturating_mul(MAX_RATIO);
    let cap = ratio_cap.min(total_left);
    let over_cap = || {
        if ratio_cap < total_left {
            format!("the entry '{shown}' inflates more than {MAX_RATIO} times its compressed size (a zip bomb)")
        } else {
            format!("it inflates to more than {} MiB (a zip bomb)", MAX_TOTAL_BYTES / 1024 / 1024)
        }
    };
    const STORED: u16 = 0;
    const DEFLATED: u16 = 8;
    if member.size > cap || (member.method == STORED && compressed > cap) {
        return Err(over_cap());
    }
    let data = match member.method {
        STORED => member.compressed.to_vec(),
        DEFLATED => miniz_oxide::inflate::decompress_to_vec_with_limit(member.compressed, cap as usize).map_err(|e| match e.status {
            miniz_oxide::inflate::TINFLStatus::HasMoreOutput => over_cap(),
            _ => format!("the entry '{shown}' cannot be inflated ({e})"),
        })?,
        _ => return Err(format!("the entry '{shown}' cannot be inflated (only stored and deflated entries are read)")),
    };
    if data.len() as u64 != member.size {
        return Err(format!("the entry '{shown}' is corrupt (it inflates to {} bytes, its header says {})", data.len(), member.size));
    }
    if crc32(&data) != member.crc32 {
        return Err(format!("the entry '{shown}' is corrupt (its CRC-32 does not match)"));
    }
    Ok(data)
}

/// CRC-32 (IEEE) with one 1 KB table rather than the 16 KB of a sliced one: bundles are small.
fn crc32(data: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut table = [0u32; 256];
        let mut n = 0;
        while n < 256 {
            let mut crc = n as u32;
            let mut bit = 0;
            while bit < 8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
                bit += 1;
            }
            table[n] = crc;
            n += 1;
        }
        table
    };
    !data.iter().fold(!0u32, |crc, &byte| TABLE[((crc ^ u32::from(byte)) & 0xFF) as usize] ^ (crc >> 8))
}

/// What macOS adds when a bundle folder is zipped again in Finder (`__MACOSX/`,
/// `._name`, `.DS_Store`): not part of the bundle, and it would hide its folder.
fn is_macos_metadata(path: &[String]) -> bool {
    path.first().is_some_and(|top| top == "__MACOSX")
        || path.last().is_some_and(|name| name.starts_with("._") || name == ".DS_Store")
}

/// A bundle zipped together with its folder has every entry under one top
/// folder: the bundle starts there.
fn strip_common_folder(entries: &mut [Entry]) {
    let at_root = |e: &Entry| e.path.len() == 1 && !e.directory;
    if entries.iter().any(at_root) {
        return;
    }
    let Some(first) = entries.first().map(|e| e.path[0].clone()) else { return };
    if entries.iter().all(|e| e.path[0] == first) {
        for entry in entries.iter_mut() {
            entry.path.remove(0);
        }
    }
}

fn text<'a>(files: &'a BTreeMap<String, Vec<u8>>, name: &str) -> std::result::Result<Option<&'a str>, String> {
    files
        .get(name)
        .map(|bytes| std::str::from_utf8(bytes).map_err(|_| format!("{name} is not a text file")))
        .transpose()
}

fn is_private_key(bytes: &[u8]) -> bool {
    bytes.windows(16).any(|w| w == b"PRIVATE KEY-----")
}

fn generation(files: &BTreeMap<String, Vec<u8>>, env_sh: Option<&str>) -> &'static str {
    if files.contains_key("meta.json") || files.keys().any(|k| k.starts_with("tls/")) {
        "UCP 3.2+ / MKE"
    } else if files.contains_key("kube.yml") {
        "UCP 3.0–3.1"
    } else if env_sh.is_some_and(|t| t.contains("$(pwd)")) {
        "UCP 1.x"
    } else {
        "UCP 2.x"
    }
}

/// Whether the shim may read the bundle file, from its stat alone: a file
/// that is not a regular one or is too large is refused before it is read.
pub fn admit(request: &BundleRequest) -> Result<()> {
    admit_size(request, request.size)
}

fn admit_size(request: &BundleRequest, size: i64) -> Result<()> {
    let input = request.input_name.as_str();
    if !request.given {
        return Err(TaskError::input(input, "a value is required (the client bundle zip)"));
    }
    let problem = if !request.regular_file {
        "it is a folder, a device or a pipe, not a zip file".to_string()
    } else if size > MAX_ZIP_BYTES {
        format!("the file has {size} bytes, more than the {} MiB a client bundle zip can have", MAX_ZIP_BYTES >> 20)
    } else {
        return Ok(());
    };
    Err(TaskError::input(input, format!("refused the client bundle: {problem}.")))
}

/// The plan for a bundle: refused with one sentence naming the input, or every
/// file to write and what to export.
pub fn plan(request: &BundleRequest, zip: &[u8]) -> Result<BundlePlan> {
    let input = request.input_name.as_str();
    // The bytes read count too, whatever the stat said.
    admit_size(request, request.size.max(zip.len() as i64))?;
    let refuse = |reason: String| TaskError::input(input, format!("refused the client bundle: {reason}."));
    let mut entries = read_entries(zip).map_err(refuse)?;
    entries.retain(|e| !is_macos_metadata(&e.path));
    strip_common_folder(&mut entries);

    let mut files = BTreeMap::new();
    let mut directories = BTreeSet::new();
    // Windows and macOS agents fold case: `Key.pem` and `key.pem` would be one file.
    // ASCII folding: bundle names are ASCII, and Unicode's tables cost 18 KB of wasm.
    let mut folded = BTreeSet::new();
    for entry in entries {
        for depth in 1..entry.path.len() + usize::from(entry.directory) {
            directories.insert(entry.path[..depth].join("/"));
        }
        if !entry.directory {
            let path = entry.path.join("/");
            if !folded.insert(path.to_ascii_lowercase()) || files.insert(path.clone(), entry.data).is_some() {
                return Err(refuse(format!("the entry '{}' appears twice", shown(&path))));
            }
        }
    }
    // A scan, not a folded set: at most 256 entries, and a set's code costs 6 KB of wasm.
    if let Some(both) = files.keys().find(|f| directories.iter().any(|d| d.eq_ignore_ascii_case(f))) {
        return Err(refuse(format!("'{}' is both a file and a folder", shown(both))));
    }
    let has_env = ENV_FILES.iter().any(|f| files.contains_key(*f));
    if !has_env && !files.contains_key("kube.yml") {
        return Err(refuse(
            "it has neither an env file (env.sh, env.ps1, env.cmd) nor kube.yml, so it is not an MKE client bundle".into(),
        ));
    }

    // Every env file is read, so a hostile line fails the step even in the one not used.
    let mut env: Option<(&str, Vec<Assignment>)> = None;
    for (name, parse) in [
        ("env.sh", env_files::parse_sh as fn(&str) -> _),
        ("env.ps1", env_files::parse_ps1),
        ("env.cmd", env_files::parse_cmd),
    ] {
        if let Some(content) = text(&files, name).map_err(refuse)? {
            let assignments = parse(content).map_err(|e| refuse(e.sentence()))?;
            env.get_or_insert((name, assignments));
        }
    }
    let (env_file, env) = env.unwrap_or_default();
    let env_value = |name: &str| {
        env.iter().rev().find(|a| a.name == name).map(|a| a.resolve(&request.directory)).filter(|v| !v.is_empty())
    };

    let directory = &request.directory;
    let mut secrets = BTreeSet::new();
    let mut kube = None;
    if let Some(content) = text(&files, "kube.yml").map_err(refuse)? {
        kubeconfig::check(content).map_err(refuse)?;
        secrets.extend(kubeconfig::secrets(content));
        let config = kubeconfig::read(content);
        let rewritten = kubeconfig::rewrite_file_references(content, |path| {
            let in_bundle = entry_path(path).ok().map(|c| c.join("/")).filter(|p| files.contains_key(p));
            let by_name = || path.rsplit(['/', '\\']).next().filter(|n| files.contains_key(*n)).map(str::to_string);
            in_bundle
                .or_else(by_name)
                .map(|p| env_files::join(directory, &p))
                .ok_or_else(|| format!("kube.yml refers to '{}', which is not in the bundle", shown(path)))
        })
        .map_err(refuse)?;
        files.insert("kube.yml".into(), rewritten.into_bytes());
        kube = Some(config);
    }

    let meta = match text(&files, "meta.json").map_err(refuse)? {
        Some(content) => Some(
            serde_json::from_str::<serde_json::Value>(content)
                .map_err(|e| refuse(format!("meta.json is not valid JSON ({e})")))?,
        ),
        None => None,
    };
    let endpoint = |name: &str| {
        meta.as_ref()?.pointer(&format!("/Endpoints/{name}/Host"))?.as_str().filter(|h| !h.is_empty()).map(str::to_string)
    };

    let certificate_pem = match ["cert.pem", "tls/kubernetes/cert.pem", "tls/docker/cert.pem"].iter().find_map(|f| files.get(*f)) {
        Some(pem) => pem.clone(),
        None => {
            let data = kube.as_ref().and_then(|k| k.client_certificate_data.as_deref()).ok_or_else(|| {
                refuse("it has no client certificate (cert.pem, or client-certificate-data in kube.yml)".into())
            })?;
            certificate::base64_decode(data.trim())
                .ok_or_else(|| refuse("the client-certificate-data of kube.yml is not base64".into()))?
        }
    };
    let validity = certificate::validity(&certificate_pem).map_err(|problem| refuse(format!("the client certificate {problem}")))?;
    let remaining = validity.not_after_epoch_seconds - request.now_epoch_seconds;
    if remaining <= 0 {
        return Err(TaskError::input(
            input,
            format!("the client certificate of the bundle expired on {}; download a new client bundle from MKE.", validity.not_after),
        ));
    }
    let mut warnings = Vec::new();
    if remaining < request.expiry_warning_days.saturating_mul(DAY) {
        // Rounded up: 2 days and 23 hours reads as "in 3 days", one hour as "in 1 day".
        let days = (remaining + DAY - 1) / DAY;
        warnings.push(format!(
            "The client certificate of the MKE bundle expires on {} (in {days} day{}); download a new client bundle from MKE before then.",
            validity.not_after,
            if days == 1 { "" } else { "s" }
        ));
    }

    let env_docker_host = env_value("DOCKER_HOST");
    // Every bundle's env file sets it: without, the file says something this task does not read.
    let env_file_lacks_docker_host = !env_file.is_empty() && env_docker_host.is_none();
    let docker_host = env_docker_host.or_else(|| endpoint("docker"));
    if env_file_lacks_docker_host {
        let then = if docker_host.is_some() { "it is taken from meta.json" } else { "later docker steps do not reach MKE" };
        warnings.push(format!("The bundle's {env_file} sets no DOCKER_HOST that this task can read; {then}."));
    }
    if let Some(host) = docker_host.as_deref().filter(|h| !is_docker_host(h)) {
        return Err(refuse(format!("its DOCKER_HOST \"{}\" is not a tcp://, unix://, ssh:// or npipe:// address", shown(host))));
    }
    if let Some(version) = env_value("COMPOSE_TLS_VERSION").filter(|v| !matches!(v.as_str(), "TLSv1" | "TLSv1_1" | "TLSv1_2" | "TLSv1_3")) {
        return Err(refuse(format!("its COMPOSE_TLS_VERSION \"{}\" is not TLSv1, TLSv1_1, TLSv1_2 or TLSv1_3", shown(&version))));
    }
    let kubeconfig_path = files.contains_key("kube.yml").then(|| env_files::join(directory, "kube.yml"));
    let mut variables = Vec::new();
    let mut set = |name: &str, value: Option<String>| {
        if let Some(value) = value {
            variables.push(Variable { name: name.into(), value });
        }
    };
    if docker_host.is_some() {
        set("DOCKER_HOST", docker_host.clone());
        set("DOCKER_TLS_VERIFY", Some(env_value("DOCKER_TLS_VERIFY").unwrap_or_else(|| "1".into())));
        set("DOCKER_CERT_PATH", Some(env_files::join(directory, "")));
        set("COMPOSE_TLS_VERSION", env_value("COMPOSE_TLS_VERSION"));
    }
    set("KUBECONFIG", kubeconfig_path.clone());

    let env_sh = text(&files, "env.sh").map_err(refuse)?;
    let generation = generation(&files, env_sh);
    for bytes in files.values().filter(|b| is_private_key(b)) {
        let pem = String::from_utf8_lossy(bytes);
        secrets.extend(pem.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with("-----")).map(str::to_string));
    }
    let planned = files
        .into_iter()
        .map(|(path, contents)| {
            // kube.yml is a credential whatever it holds.
            let secret = path == "key.pem" || path.ends_with("/key.pem") || path == "kube.yml" || is_private_key(&contents);
            PlannedFile { mode: if secret { 0o600 } else { 0o644 }, path, contents }
        })
        .collect();

    Ok(BundlePlan {
        generation,
        directories: directories.into_iter().collect(),
        files: planned,
        secrets: secrets.into_iter().collect(),
        warnings,
        variables,
        kubeconfig: kubeconfig_path,
        docker_host,
        kubernetes_server: kube.and_then(|k| k.server).or_else(|| endpoint("kubernetes")),
        certificate_not_after: validity.not_after,
    })
}

/// An address docker accepts in DOCKER_HOST: a known scheme, then printable text
/// without spaces (it becomes a job variable and is printed).
fn is_docker_host(host: &str) -> bool {
    ["tcp://", "unix://", "ssh://", "npipe://"].iter().any(|scheme| {
        host.strip_prefix(scheme).is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_graphic() && b != b'#'))
    })
}

#[cfg(test)]
mod tests;
