use super::*;
use crate::certificate::tests::CERT;
use proptest::prelude::*;
use std::io::{Cursor, Write};
use zip::write::{SimpleFileOptions, ZipWriter};
use zip::CompressionMethod;

const KEY: &str = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIKeyMaterialLineOne\nAwEHoUQDQgAEKeyMaterialLineTwo\n-----END EC PRIVATE KEY-----\n";
// The test certificate's notAfter is 2026-12-04T19:45:01Z.
const BEFORE_EXPIRY: i64 = 1796413501 - 30 * DAY;

const ENV_SH: &str = "export DOCKER_TLS_VERIFY=1\nexport COMPOSE_TLS_VERSION=TLSv1_2\nexport DOCKER_CERT_PATH=$PWD\n\
    export DOCKER_HOST=tcp://ucp.example.com:443\n\nif kubectl >/dev/null 2>&1; then\n    unset KUBECONFIG\nfi\n\
    export KUBECONFIG=$PWD/kube.yml\n";

fn kube_yml() -> String {
    use base64::Engine;
    let b64 = |t: &str| base64::engine::general_purpose::STANDARD.encode(t);
    format!(
        "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: {}\n    server: https://ucp.example.com:6443\n  name: c\n\
         contexts:\n- context:\n    cluster: c\n    user: u\n  name: ctx\ncurrent-context: ctx\nkind: Config\nusers:\n- name: u\n  user:\n    \
         client-certificate-data: {}\n    client-key-data: {}\n",
        b64(CERT),
        b64(CERT),
        b64(KEY)
    )
}

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    try_zip_of(entries).expect("the zip writer takes these names")
}

/// None when the zip writer itself refuses a name (a duplicate, for example).
fn try_zip_of(entries: &[(&str, &[u8])]) -> Option<Vec<u8>> {
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in entries {
        if name.ends_with('/') {
            writer.add_directory(*name, SimpleFileOptions::default()).ok()?;
        } else {
            writer.start_file(*name, SimpleFileOptions::default().compression_method(CompressionMethod::Deflated)).ok()?;
            writer.write_all(data).ok()?;
        }
    }
    Some(writer.finish().ok()?.into_inner())
}

fn ucp32() -> Vec<(String, Vec<u8>)> {
    let meta = r#"{"Endpoints":{"docker":{"Host":"tcp://ucp.example.com:443"},"kubernetes":{"Host":"https://ucp.example.com:6443"}}}"#;
    [
        ("ca.pem", CERT.to_string()),
        ("cert.pem", CERT.to_string()),
        ("key.pem", KEY.to_string()),
        ("cert.pub", "-----BEGIN PUBLIC KEY-----\nPUB\n-----END PUBLIC KEY-----\n".to_string()),
        ("env.sh", ENV_SH.to_string()),
        ("env.cmd", "set DOCKER_CERT_PATH=%~dp0\r\nset DOCKER_HOST=tcp://ucp.example.com:443\r\n".to_string()),
        ("env.ps1", "$Env:DOCKER_HOST = \"tcp://ucp.example.com:443\"\n".to_string()),
        ("kube.yml", kube_yml()),
        ("meta.json", meta.to_string()),
        ("tls/", String::new()),
        ("tls/docker/", String::new()),
        ("tls/docker/key.pem", KEY.to_string()),
        ("tls/kubernetes/cert.pem", CERT.to_string()),
    ]
    .into_iter()
    .map(|(n, t)| (n.to_string(), t.into_bytes()))
    .collect()
}

fn zip_owned(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let borrowed: Vec<(&str, &[u8])> = entries.iter().map(|(n, d)| (n.as_str(), d.as_slice())).collect();
    zip_of(&borrowed)
}

fn request() -> BundleRequest {
    BundleRequest {
        input_name: "bundle".into(),
        directory: "/agent/_temp/mke-bundle-Ab12".into(),
        expiry_warning_days: 14,
        now_epoch_seconds: BEFORE_EXPIRY,
        given: true,
        size: 4096,
        regular_file: true,
    }
}

fn refused(zip: &[u8]) -> String {
    plan(&request(), zip).unwrap_err().to_string()
}

fn without(entries: Vec<(String, Vec<u8>)>, names: &[&str]) -> Vec<(String, Vec<u8>)> {
    entries.into_iter().filter(|(n, _)| !names.contains(&n.as_str())).collect()
}

/// `ucp32()` with these entries instead of its own of the same names (added at the end, in order).
fn replacing(replaced: &[(&str, &[u8])]) -> Vec<(String, Vec<u8>)> {
    let names: Vec<&str> = replaced.iter().map(|(name, _)| *name).collect();
    let mut entries = without(ucp32(), &names);
    entries.extend(replaced.iter().map(|(name, bytes)| (name.to_string(), bytes.to_vec())));
    entries
}

#[test]
fn plans_a_ucp_32_bundle() {
    let plan = plan(&request(), &zip_owned(&ucp32())).unwrap();
    assert_eq!(plan.generation, "UCP 3.2+ / MKE");
    assert_eq!(plan.directories, ["tls", "tls/docker", "tls/kubernetes"]);
    let modes: Vec<(&str, u32)> = plan.files.iter().map(|f| (f.path.as_str(), f.mode)).collect();
    assert_eq!(
        modes,
        [
            ("ca.pem", 0o644),
            ("cert.pem", 0o644),
            ("cert.pub", 0o644),
            ("env.cmd", 0o644),
            ("env.ps1", 0o644),
            ("env.sh", 0o644),
            ("key.pem", 0o600),
            ("kube.yml", 0o600),
            ("meta.json", 0o644),
            ("tls/docker/key.pem", 0o600),
            ("tls/kubernetes/cert.pem", 0o644),
        ]
    );
    let dir = "/agent/_temp/mke-bundle-Ab12";
    let vars: Vec<(&str, &str)> = plan.variables.iter().map(|v| (v.name.as_str(), v.value.as_str())).collect();
    assert_eq!(
        vars,
        [
            ("DOCKER_HOST", "tcp://ucp.example.com:443"),
            ("DOCKER_TLS_VERIFY", "1"),
            ("DOCKER_CERT_PATH", dir),
            ("COMPOSE_TLS_VERSION", "TLSv1_2"),
            ("KUBECONFIG", "/agent/_temp/mke-bundle-Ab12/kube.yml"),
        ]
    );
    assert_eq!(plan.kubernetes_server.as_deref(), Some("https://ucp.example.com:6443"));
    assert_eq!(plan.certificate_not_after, "2026-12-04T19:45:01Z");
    assert!(plan.warnings.is_empty());
    assert!(plan.secrets.contains(&"MHcCAQEEIKeyMaterialLineOne".to_string()));
    assert!(plan.secrets.iter().any(|s| s.len() > 100), "kube.yml's client-key-data is a secret");
    assert!(plan.secrets.iter().all(|s| !s.starts_with("-----")));
}

#[test]
fn tells_the_generations_apart() {
    let ucp1 = vec![
        ("cert.pem".to_string(), CERT.as_bytes().to_vec()),
        ("env.sh".to_string(), b"export DOCKER_TLS_VERIFY=1\r\nexport DOCKER_CERT_PATH=$(pwd)\r\nexport DOCKER_HOST=tcp://u:443\r\n".to_vec()),
    ];
    let plan1 = plan(&request(), &zip_owned(&ucp1)).unwrap();
    assert_eq!(plan1.generation, "UCP 1.x");
    assert_eq!(plan1.kubeconfig, None);
    let names: Vec<&str> = plan1.variables.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"]);
    let ucp2 = without(ucp32(), &["kube.yml", "meta.json", "tls/", "tls/docker/", "tls/docker/key.pem", "tls/kubernetes/cert.pem"]);
    let ucp2: Vec<_> = ucp2.into_iter().map(|(n, d)| if n == "env.sh" { (n, b"export DOCKER_HOST=tcp://u:443\nexport DOCKER_CERT_PATH=$PWD\n".to_vec()) } else { (n, d) }).collect();
    assert_eq!(plan(&request(), &zip_owned(&ucp2)).unwrap().generation, "UCP 2.x");
    let ucp3 = without(ucp32(), &["meta.json", "tls/", "tls/docker/", "tls/docker/key.pem", "tls/kubernetes/cert.pem"]);
    assert_eq!(plan(&request(), &zip_owned(&ucp3)).unwrap().generation, "UCP 3.0–3.1");
}

#[test]
fn a_kubeconfig_only_bundle_reads_the_embedded_certificate() {
    let only = vec![("kube.yml".to_string(), kube_yml().into_bytes())];
    let plan = plan(&request(), &zip_owned(&only)).unwrap();
    assert_eq!(plan.certificate_not_after, "2026-12-04T19:45:01Z");
    let names: Vec<&str> = plan.variables.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["KUBECONFIG"]);
}

#[test]
fn a_bundle_in_a_folder_is_read_from_that_folder() {
    let nested: Vec<_> = ucp32().into_iter().map(|(n, d)| (format!("ucp-bundle-admin/{n}"), d)).collect();
    let plan = plan(&request(), &zip_owned(&nested)).unwrap();
    assert!(plan.files.iter().any(|f| f.path == "env.sh"));
}

#[test]
fn a_bundle_zipped_again_on_macos_is_read_without_the_finder_metadata() {
    let mut entries: Vec<_> = ucp32().into_iter().map(|(n, d)| (format!("ucp-bundle-admin/{n}"), d)).collect();
    entries.push(("__MACOSX/ucp-bundle-admin/._env.sh".into(), b"\0\x05\x16\x07".to_vec()));
    entries.push(("ucp-bundle-admin/.DS_Store".into(), b"Bud1".to_vec()));
    entries.push((".DS_Store".into(), b"Bud1".to_vec()));
    let plan = plan(&request(), &zip_owned(&entries)).unwrap();
    let mut paths: Vec<_> = plan.files.iter().map(|f| f.path.as_str()).collect();
    paths.sort();
    let mut expected: Vec<_> = ucp32().into_iter().map(|(n, _)| n).filter(|n| !n.ends_with('/')).collect();
    expected.sort();
    assert_eq!(paths, expected);
}

#[test]
fn kubeconfig_file_references_point_into_the_bundle() {
    let kube = "clusters:\n- cluster:\n    certificate-authority: ca.pem\n    server: https://h:6443\n  name: c\n\
        users:\n- name: u\n  user:\n    client-certificate: /Users/someone/bundle/cert.pem\n    client-key: ./key.pem\n";
    let plan = plan(&request(), &with_kube(kube)).unwrap();
    let written = plan.files.iter().find(|f| f.path == "kube.yml").unwrap();
    let text = String::from_utf8(written.contents.clone()).unwrap();
    assert!(text.contains("certificate-authority: \"/agent/_temp/mke-bundle-Ab12/ca.pem\""), "{text}");
    assert!(text.contains("client-certificate: \"/agent/_temp/mke-bundle-Ab12/cert.pem\""), "{text}");
    assert!(text.contains("client-key: \"/agent/_temp/mke-bundle-Ab12/key.pem\""), "{text}");
    let shadow = "clusters:\n- cluster:\n    certificate-authority: /etc/shadow\n";
    assert!(refused(&with_kube(shadow)).contains("kube.yml refers to '/etc/shadow', which is not in the bundle"));
}

#[test]
fn expiry_fails_or_warns() {
    let zip = zip_owned(&ucp32());
    let expired = BundleRequest { now_epoch_seconds: 1796413501, ..request() };
    assert_eq!(
        plan(&expired, &zip).unwrap_err().to_string(),
        "Input 'bundle': the client certificate of the bundle expired on 2026-12-04T19:45:01Z; download a new client bundle from MKE."
    );
    let soon = BundleRequest { now_epoch_seconds: 1796413501 - 3 * DAY + 3600, ..request() };
    let warnings = plan(&soon, &zip).unwrap().warnings;
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].contains("expires on 2026-12-04T19:45:01Z (in 3 days)"), "{}", warnings[0]);
    let no_warning = BundleRequest { expiry_warning_days: 0, ..soon };
    assert!(plan(&no_warning, &zip).unwrap().warnings.is_empty());
}

#[test]
fn refuses_hostile_archives_before_planning_anything() {
    let with = |name: &str, data: &[u8]| {
        let mut entries = ucp32();
        entries.push((name.to_string(), data.to_vec()));
        zip_owned(&entries)
    };
    assert!(refused(&with("../evil", b"x")).ends_with("the entry '../evil' points outside the bundle (zip slip)."));
    assert!(refused(&with("tls/../../evil", b"x")).contains("zip slip"));
    assert!(refused(&with("/etc/evil", b"x")).contains("is an absolute path"));
    assert!(refused(&with("C:\\evil", b"x")).contains("starts with a drive letter"));
    assert!(refused(&with("C:evil", b"x")).contains("starts with a drive letter"));
    assert!(refused(&with("..\\evil", b"x")).contains("zip slip"));
    assert!(refused(b"PK\x03\x04 not really").contains("it is not a zip file or it is corrupt"));
    assert!(refused(b"hello").starts_with("Input 'bundle': refused the client bundle: it is not a zip file"));
    let zip = zip_owned(&ucp32());
    assert!(refused(&zip[..zip.len() / 2]).contains("corrupt"));
    let bomb = with("zeros.bin", &vec![0u8; 1024 * 1024]);
    assert!(refused(&bomb).contains("the entry 'zeros.bin' inflates more than 200 times"), "{}", refused(&bomb));
    let mut many = ucp32();
    for i in 0..250 {
        many.push((format!("x/{i}"), vec![]));
    }
    assert!(refused(&zip_owned(&many)).contains("more than the 256"));
    let mut dup = ucp32();
    dup.push(("./env.sh".into(), b"export A=1\n".to_vec()));
    assert!(refused(&zip_owned(&dup)).contains("'env.sh' appears twice"));
    let mut folded = ucp32();
    folded.push(("KEY.pem".into(), b"x".to_vec()));
    assert!(refused(&zip_owned(&folded)).contains("appears twice"));
    let mut file_and_folder = ucp32();
    file_and_folder.push(("TLS".into(), b"x".to_vec()));
    assert!(refused(&zip_owned(&file_and_folder)).contains("'TLS' is both a file and a folder"));
    let none = without(ucp32(), &["env.sh", "env.cmd", "env.ps1", "kube.yml"]);
    assert!(refused(&zip_owned(&none)).contains("neither an env file (env.sh, env.ps1, env.cmd) nor kube.yml"));
    let no_cert = without(ucp32(), &["cert.pem", "tls/kubernetes/cert.pem", "kube.yml"]);
    assert!(refused(&zip_owned(&no_cert)).contains("no client certificate"));
    assert_eq!(
        plan(&BundleRequest { given: false, ..request() }, &[]).unwrap_err().to_string(),
        "Input 'bundle': a value is required (the client bundle zip)"
    );
}

#[test]
fn refuses_unusual_compression() {
    let mut zip = zip_of(&[("env.sh", ENV_SH.as_bytes()), ("cert.pem", CERT.as_bytes())]);
    // Compression method 12 (bzip2) in the first local and central headers.
    let (_, central, local) = headers(&zip)[0];
    zip[central + 10] = 12;
    zip[local + 8] = 12;
    let refusal = refused(&zip);
    assert!(refusal.contains("the entry 'env.sh' cannot be inflated (only stored and deflated entries are read)"), "{refusal}");

    // A deflate stream whose first block has the reserved type 3.
    let mut zip = zip_of(&[("env.sh", ENV_SH.as_bytes()), ("cert.pem", CERT.as_bytes())]);
    let (_, _, local) = headers(&zip)[0];
    let data = local + 30 + usize::from(zip[local + 26]) + usize::from(zip[local + 28]);
    zip[data] = 0b111;
    let refusal = refused(&zip);
    assert!(refusal.contains("the entry 'env.sh' cannot be inflated (Invalid input data)"), "{refusal}");
}

/// Where the end of central directory record is.
fn end_record(zip: &[u8]) -> usize {
    (0..zip.len() - 3).rev().find(|&i| zip[i..i + 4] == [0x50, 0x4b, 0x05, 0x06]).unwrap()
}

/// Each entry's name with the offsets of its central and local headers, to tamper with.
fn headers(zip: &[u8]) -> Vec<(Vec<u8>, usize, usize)> {
    let end = end_record(zip);
    let u16_at = |i: usize| u16::from_le_bytes([zip[i], zip[i + 1]]) as usize;
    let u32_at = |i: usize| u32::from_le_bytes(zip[i..i + 4].try_into().unwrap()) as usize;
    let mut central = u32_at(end + 16);
    let mut found = Vec::new();
    for _ in 0..u16_at(end + 10) {
        let name_len = u16_at(central + 28);
        found.push((zip[central + 46..central + 46 + name_len].to_vec(), central, u32_at(central + 42)));
        central += 46 + name_len + u16_at(central + 30) + u16_at(central + 32);
    }
    found
}

#[test]
fn refuses_an_entry_whose_checksum_does_not_match() {
    let mut zip = zip_of(&[("env.sh", ENV_SH.as_bytes()), ("cert.pem", CERT.as_bytes())]);
    let (_, central, local) = headers(&zip)[0];
    zip[local + 14] ^= 1;
    zip[central + 16] ^= 1;
    assert!(refused(&zip).contains("the entry 'env.sh' is corrupt (its CRC-32 does not match)"), "{}", refused(&zip));
}

#[test]
fn refuses_encrypted_entries() {
    let mut zip = zip_of(&[("env.sh", ENV_SH.as_bytes()), ("cert.pem", CERT.as_bytes())]);
    let (_, central, local) = headers(&zip)[0];
    zip[local + 6] |= 1;
    zip[central + 8] |= 1;
    assert!(refused(&zip).contains("it uses a zip feature MKE bundles never use (the entry 'env.sh' is encrypted)"), "{}", refused(&zip));
}

#[test]
fn refuses_symlinks() {
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in ucp32().iter().filter(|(n, _)| !n.ends_with('/')) {
        writer.start_file(name.as_str(), SimpleFileOptions::default()).unwrap();
        writer.write_all(data).unwrap();
    }
    writer.add_symlink("ca-link.pem", "/etc/passwd", SimpleFileOptions::default()).unwrap();
    let zip = writer.finish().unwrap().into_inner();
    assert!(refused(&zip).contains("the entry 'ca-link.pem' is a symbolic link"));
}

#[test]
fn counts_what_inflates_not_what_headers_say() {
    // 33 MiB of zeros in entries that each stay under the ratio limit by being stored.
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in ucp32().iter().filter(|(n, _)| !n.ends_with('/')) {
        writer.start_file(name.as_str(), SimpleFileOptions::default()).unwrap();
        writer.write_all(data).unwrap();
    }
    let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    for i in 0..3 {
        writer.start_file(format!("blob{i}"), stored).unwrap();
        writer.write_all(&vec![7u8; 11 * 1024 * 1024]).unwrap();
    }
    let zip = writer.finish().unwrap().into_inner();
    assert!(refused(&zip).contains("inflates to more than 32 MiB"));

    // A bomb whose headers claim 1 KiB: the ratio limit stops it while inflating.
    let mut zip = zip_of(&[("env.sh", ENV_SH.as_bytes()), ("cert.pem", CERT.as_bytes()), ("zeros", &vec![0u8; 4 * 1024 * 1024])]);
    lie_about_size(&mut zip, b"zeros", 1024);
    let message = refused(&zip);
    // The zip reader notices the lie itself; the cap would stop it at 200 times anyway.
    assert!(message.contains("zip bomb") || message.contains("cannot be inflated"), "{message}");
    assert!(message.contains("'zeros'"), "{message}");
}

/// Sets the uncompressed size of entry `name` in its local and central headers.
fn lie_about_size(zip: &mut [u8], name: &[u8], size: u32) {
    for (_, central, local) in headers(zip).into_iter().filter(|(n, _, _)| n == name) {
        zip[central + 24..central + 28].copy_from_slice(&size.to_le_bytes());
        zip[local + 22..local + 26].copy_from_slice(&size.to_le_bytes());
    }
}

/// The ucp32 bundle's files written with these options (and a comment, as
/// some zip tools add), by a seekable or a streaming writer.
fn ucp32_written(options: SimpleFileOptions, streaming: bool) -> Vec<u8> {
    fn write<W: Write + std::io::Seek>(mut writer: ZipWriter<W>, options: SimpleFileOptions) -> W {
        for (name, data) in ucp32().iter().filter(|(n, _)| !n.ends_with('/')) {
            writer.start_file(name.as_str(), options).unwrap();
            writer.write_all(data).unwrap();
        }
        writer.set_comment("made by a zip tool").unwrap();
        writer.finish().unwrap()
    }
    if streaming {
        let mut bytes = Vec::new();
        write(ZipWriter::new_stream(&mut bytes), options);
        bytes
    } else {
        write(ZipWriter::new(Cursor::new(Vec::new())), options).into_inner()
    }
}

#[test]
fn reads_zip64_streamed_and_windows_made_archives() {
    let deflated = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    let expected = plan(&request(), &ucp32_written(deflated, false)).unwrap().files;
    assert_eq!(expected.len(), 11);
    for (what, options, streaming) in [
        ("zip64 sizes", deflated.large_file(true), false),
        ("data descriptors", deflated, true),
        ("stored entries", SimpleFileOptions::default().compression_method(CompressionMethod::Stored), false),
    ] {
        let zip = ucp32_written(options, streaming);
        assert_eq!(plan(&request(), &zip).unwrap().files, expected, "{what}");
    }
    // A zip64 end of central directory (as tools write past 65535 entries or 4 GiB).
    let zip = ucp32_written(deflated, false);
    let end = end_record(&zip);
    let at = |i: usize| u64::from(u32::from_le_bytes(zip[end + i..end + i + 4].try_into().unwrap()));
    let (entries, size, offset) = (u64::from(u16::from_le_bytes([zip[end + 10], zip[end + 11]])), at(12), at(16));
    let mut zip64 = zip[..end].to_vec();
    zip64.extend(b"PK\x06\x06".iter().chain(&44u64.to_le_bytes()).chain(&[45, 3, 45, 0]).chain(&[0; 8]));
    for value in [entries, entries, size, offset] {
        zip64.extend(value.to_le_bytes());
    }
    zip64.extend(b"PK\x06\x07".iter().chain(&[0; 4]).chain(&(end as u64).to_le_bytes()).chain(&1u32.to_le_bytes()));
    zip64.extend(b"PK\x05\x06".iter().chain(&[0; 4]).chain(&[0xFF; 12]).chain(&[0; 2]));
    assert_eq!(plan(&request(), &zip64).unwrap().files, expected);

    // Made on Windows: DOS attributes, no Unix mode.
    let mut zip = ucp32_written(deflated, false);
    for (_, central, _) in headers(&zip) {
        zip[central + 5] = 0;
        zip[central + 38..central + 42].copy_from_slice(&0x20u32.to_le_bytes());
    }
    assert_eq!(plan(&request(), &zip).unwrap().files, expected);
}

#[test]
fn refuses_archives_whose_headers_lie() {
    let zip = ucp32_written(SimpleFileOptions::default().compression_method(CompressionMethod::Stored), false);
    let end = end_record(&zip);
    let tampered = |at: usize, bytes: &[u8]| {
        let mut copy = zip.clone();
        copy[at..at + bytes.len()].copy_from_slice(bytes);
        refused(&copy)
    };
    let (_, central, local) = headers(&zip)[0];
    let size_lie = format!("the entry 'ca.pem' is corrupt (it inflates to {} bytes, its header says 1000)", CERT.len());
    for (problem, refusal) in [
        ("it spans several disks", tampered(end + 4, &[1, 0])),
        ("the central directory is outside the file", tampered(end + 16, &0x7FFF_0000u32.to_le_bytes())),
        ("the central directory is shorter than its entry count", tampered(end + 8, &[200, 0, 200, 0])),
        ("a zip64 end of central directory is missing", tampered(end + 8, &[0xFF; 4])),
        ("a central directory entry has a bad signature", tampered(central, b"PK\x05\x05")),
        ("an entry's local header is missing", tampered(local, b"PK\x05\x05")),
        ("an entry's local header is missing", tampered(central + 42, &0x7FFF_0000u32.to_le_bytes())),
        ("an entry's zip64 sizes are missing", tampered(central + 20, &u32::MAX.to_le_bytes())),
        ("an entry is cut short", tampered(central + 20, &(zip.len() as u32).to_le_bytes())),
        (size_lie.as_str(), tampered(central + 24, &1000u32.to_le_bytes())),
        ("no end of central directory record", tampered(end + 20, &[1, 0])),
    ] {
        assert!(refusal.contains(problem), "{problem}: {refusal}");
    }
}

#[test]
fn a_hostile_env_file_fails_naming_the_line() {
    let entries = replacing(&[("env.sh", b"export DOCKER_TLS_VERIFY=1\nexport DOCKER_HOST=$(touch /tmp/marker)\n")]);
    assert_eq!(
        refused(&zip_owned(&entries)),
        "Input 'bundle': refused the client bundle: env.sh line 2 needs a shell to evaluate \
         (`export DOCKER_HOST=$(touch /tmp/marker)`); the bundle is not used."
    );
}

#[test]
fn docker_host_and_compose_tls_version_must_be_what_docker_reads() {
    let with_env = |env: &str| {
        plan(&request(), &zip_owned(&replacing(&[("env.sh", env.as_bytes())])))
    };
    for host in ["tcp://ucp.example.com:443", "tcp://[fd00::10]:443", "unix:///var/run/docker.sock", "ssh://deploy@ucp"] {
        let planned = with_env(&format!("export DOCKER_HOST='{host}'\nexport COMPOSE_TLS_VERSION=TLSv1_3\n")).unwrap();
        assert_eq!(planned.docker_host.as_deref(), Some(host));
    }
    for (env, problem) in [
        ("export DOCKER_HOST='##vso[task.prependpath]/tmp/x'\n", "its DOCKER_HOST \"#\u{200B}#vso[task.prependpath]/tmp/x\" is not a tcp://"),
        ("export DOCKER_HOST=ucp.example.com:443\n", "its DOCKER_HOST \"ucp.example.com:443\" is not a tcp://"),
        ("export DOCKER_HOST=tcp://\n", "is not a tcp://"),
        ("export DOCKER_HOST=tcp://h:443\nexport COMPOSE_TLS_VERSION=SSLv3\n", "its COMPOSE_TLS_VERSION \"SSLv3\" is not TLSv1"),
    ] {
        let error = with_env(env).unwrap_err().to_string();
        assert!(error.starts_with("Input 'bundle': refused the client bundle: ") && error.contains(problem), "{error}");
    }
}

#[test]
fn a_docker_host_from_meta_json_is_checked_too() {
    // Found by the meta_json fuzz target: valid JSON whose docker endpoint is no address.
    let entries = replacing(&[
        ("env.sh", b"export DOCKER_TLS_VERIFY=1\n"),
        ("meta.json", br#"{"Endpoints":{"docker":{"Host":"tcp:/https://ucp.example.com:6443"}}}"#),
    ]);
    let error = plan(&request(), &zip_owned(&entries)).unwrap_err().to_string();
    assert!(error.contains("its DOCKER_HOST \"tcp:/https://ucp.example.com:6443\" is not a tcp://"), "{error}");
}

#[test]
fn a_folder_a_device_or_a_huge_file_is_refused_before_it_is_read() {
    assert_eq!(admit(&request()), Ok(()));
    assert_eq!(
        admit(&BundleRequest { regular_file: false, ..request() }).unwrap_err().to_string(),
        "Input 'bundle': refused the client bundle: it is a folder, a device or a pipe, not a zip file."
    );
    assert_eq!(
        admit(&BundleRequest { size: MAX_ZIP_BYTES + 1, ..request() }).unwrap_err().to_string(),
        "Input 'bundle': refused the client bundle: the file has 67108865 bytes, more than the 64 MiB a client bundle zip can have."
    );
    assert_eq!(admit(&BundleRequest { size: MAX_ZIP_BYTES, ..request() }), Ok(()));
    assert!(admit(&BundleRequest { given: false, ..request() }).unwrap_err().to_string().contains("a value is required"));
    // The plan counts the bytes it was given, whatever the stat said.
    let zip = zip_owned(&ucp32());
    assert!(plan(&BundleRequest { regular_file: false, ..request() }, &zip).unwrap_err().to_string().contains("not a zip file"));
    let huge = vec![0u8; MAX_ZIP_BYTES as usize + 1];
    assert!(refused(&huge).contains("the file has 67108865 bytes, more than the 64 MiB"));
}

fn with_kube(kube: &str) -> Vec<u8> {
    zip_owned(&replacing(&[("kube.yml", kube.as_bytes())]))
}

#[test]
fn a_kubeconfig_that_runs_a_command_or_sends_a_file_is_refused() {
    let exec = kube_yml().replace(
        "    client-key-data:",
        "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: sh\n      args: [-c, touch /tmp/marker]\n    client-key-data:",
    );
    assert_eq!(
        refused(&with_kube(&exec)),
        "Input 'bundle': refused the client bundle: kube.yml asks kubectl to run a command (users[].user.exec), \
         which a client bundle never does."
    );
    let token_file = kube_yml().replace("    client-key-data:", "    tokenFile: /home/agent/.ssh/id_rsa\n    client-key-data:");
    assert!(refused(&with_kube(&token_file)).contains("kube.yml asks kubectl to send a file of this agent as its token (users[].user.tokenFile)"));
    let auth_provider = kube_yml().replace("    client-key-data:", "    auth-provider:\n      name: gcp\n      config:\n        cmd-path: /bin/sh\n    client-key-data:");
    assert!(refused(&with_kube(&auth_provider)).contains("(users[].user.auth-provider)"));
    let flow_file = format!("{}users: [{{name: v, user: {{client-key: /etc/ssl/private/agent.pem}}}}]\n", kube_yml().split("users:").next().unwrap());
    assert!(refused(&with_kube(&flow_file)).contains("kube.yml refers to '/etc/ssl/private/agent.pem', which is not in the bundle"));
}

#[test]
fn a_json_kubeconfig_is_read_and_every_kubeconfig_is_private() {
    use base64::Engine;
    let b64 = |t: &str| base64::engine::general_purpose::STANDARD.encode(t);
    let json = format!(
        r#"{{"kind":"Config","apiVersion":"v1","clusters":[{{"name":"c","cluster":{{"server":"https://ucp.example.com:6443","certificate-authority":"ca.pem"}}}}],"users":[{{"name":"u","user":{{"client-certificate-data":"{}","client-key-data":"{}"}}}},{{"name":"other","user":{{"token":"other-token"}}}}],"contexts":[{{"name":"ctx","context":{{"cluster":"c","user":"u"}}}}],"current-context":"ctx"}}"#,
        b64(CERT),
        b64(KEY)
    );
    let planned = plan(&request(), &with_kube(&json)).unwrap();
    assert_eq!(planned.kubernetes_server.as_deref(), Some("https://ucp.example.com:6443"));
    assert!(planned.secrets.contains(&b64(KEY)) && planned.secrets.contains(&"other-token".to_string()));
    let written = planned.files.iter().find(|f| f.path == "kube.yml").unwrap();
    assert_eq!(written.mode, 0o600);
    let rewritten: serde_json::Value = serde_json::from_slice(&written.contents).unwrap();
    assert_eq!(rewritten["clusters"][0]["cluster"]["certificate-authority"], "/agent/_temp/mke-bundle-Ab12/ca.pem");
    // Without any key in it, kube.yml is still the cluster's credentials file.
    let no_key = kube_yml().replace("    client-key-data:", "    x-unused:");
    let plan = plan(&request(), &with_kube(&no_key)).unwrap();
    assert_eq!(plan.files.iter().find(|f| f.path == "kube.yml").unwrap().mode, 0o600);
}

#[test]
fn an_env_file_without_docker_host_gives_a_warning() {
    let with_env = |env: &str, meta: bool| {
        let mut entries = without(ucp32(), &["env.sh", "meta.json"]);
        entries.push(("env.sh".into(), env.as_bytes().to_vec()));
        if meta {
            entries.push(("meta.json".into(), br#"{"Endpoints":{"docker":{"Host":"tcp://meta:443"}}}"#.to_vec()));
        }
        plan(&request(), &zip_owned(&entries)).unwrap().warnings
    };
    assert_eq!(
        with_env("export DOCKER_TLS_VERIFY=1\n", false),
        ["The bundle's env.sh sets no DOCKER_HOST that this task can read; later docker steps do not reach MKE."]
    );
    assert_eq!(
        with_env("if true; then\n  export DOCKER_HOST=tcp://h:443\nfi\n", true),
        ["The bundle's env.sh sets no DOCKER_HOST that this task can read; it is taken from meta.json."]
    );
    assert!(with_env(ENV_SH, false).is_empty());
}

proptest! {
    #[test]
    fn an_entry_path_never_leaves_the_directory(name in "([a-zA-Z]:)?([/\\\\]?(\\.\\.|\\.|[a-z:]{0,3})){0,6}") {
        if let Ok(components) = entry_path(&name) {
            prop_assert!(!components.is_empty());
            for c in &components {
                prop_assert!(!c.is_empty() && c != "." && c != "..");
                prop_assert!(!c.contains(['/', '\\', ':', '\0']));
            }
        }
    }

    #[test]
    fn no_plan_names_a_path_outside_its_directory(names in proptest::collection::vec("[./\\\\a-z:]{1,12}", 1..6)) {
        let mut entries = vec![("env.sh".to_string(), b"export DOCKER_HOST=tcp://h:1\n".to_vec()), ("cert.pem".to_string(), CERT.as_bytes().to_vec())];
        entries.extend(names.iter().map(|n| (n.clone(), b"x".to_vec())));
        let borrowed: Vec<(&str, &[u8])> = entries.iter().map(|(n, d)| (n.as_str(), d.as_slice())).collect();
        let Some(zip) = try_zip_of(&borrowed) else { return Ok(()) };
        if let Ok(plan) = plan(&request(), &zip) {
            for path in plan.files.iter().map(|f| &f.path).chain(&plan.directories) {
                prop_assert!(entry_path(path).map(|c| c.join("/")) == Ok(path.clone()), "{}", path);
            }
        }
    }

    #[test]
    fn kubeconfig_references_never_point_outside_the_directory(
        references in proptest::collection::vec("(/|\\.\\./|[a-z]:\\\\|\\.\\.\\\\)?([a-z.]{0,4}[/\\\\]){0,3}(ca|cert|key|x)\\.pem", 1..4),
    ) {
        let keys = ["certificate-authority", "client-certificate", "client-key"];
        let kube: String = references.iter().zip(keys).map(|(r, k)| format!("    {k}: {r}\n")).collect();
        let entries = replacing(&[("kube.yml", format!("clusters:\n- cluster:\n{kube}").as_bytes())]);
        let Ok(plan) = plan(&request(), &zip_owned(&entries)) else { return Ok(()) };
        let text = String::from_utf8(plan.files.iter().find(|f| f.path == "kube.yml").unwrap().contents.clone()).unwrap();
        for line in text.lines().filter(|l| keys.iter().any(|k| l.trim_start().starts_with(k))) {
            let (_, value) = line.split_once(": ").unwrap();
            let path: String = serde_json::from_str(value).unwrap();
            let inside = path.strip_prefix("/agent/_temp/mke-bundle-Ab12/").unwrap_or_else(|| panic!("{path} is outside"));
            prop_assert!(entry_path(inside).map(|c| c.join("/")) == Ok(inside.to_string()), "{}", path);
        }
    }
}
