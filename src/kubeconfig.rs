//! Reads the parts of a bundle's `kube.yml` the tasks need, refuses what would
//! make kubectl or helm run a program or read a file of the agent, finds every
//! credential in it and points its file references at the extracted bundle.
//!
//! MKE writes block-style YAML, read here with a small line reader (block maps
//! and lists of scalars); a JSON kubeconfig (what `kubectl config view -o json`
//! writes, and also YAML) is read with serde_json. The refusals, the
//! credentials and the file references do not depend on the style: they come
//! from the words of the text, so flow style, quoting and escapes hide nothing.

use serde_json::Value;
use std::collections::BTreeMap;
use std::ops::Range;

/// The keys whose value is a file; bundles embed `*-data` instead, but a
/// hand-made one may name files next to it.
const FILE_KEYS: [&str; 3] = ["certificate-authority", "client-certificate", "client-key"];

/// The keys whose value is a credential, for every user.
const SECRET_KEYS: [&str; 3] = ["client-key-data", "token", "password"];

/// Words a client bundle's kube.yml never has, in lower case (kubectl before
/// 1.23 matched keys case-insensitively), and what they would do.
const REFUSED: [(&str, &str); 4] = [
    ("exec", "asks kubectl to run a command (users[].user.exec)"),
    ("auth-provider", "asks kubectl to use an authentication plugin, which can run a command (users[].user.auth-provider)"),
    ("tokenfile", "asks kubectl to send a file of this agent as its token (users[].user.tokenFile)"),
    ("binary", "uses YAML's !!binary tag, which can spell a key"),
];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Kubeconfig {
    pub server: Option<String>,
    pub context: Option<String>,
    pub user: Option<String>,
    /// Base64 of the client certificate, when embedded.
    pub client_certificate_data: Option<String>,
}

type Item = BTreeMap<String, String>;

struct Line<'a> {
    indent: usize,
    list_item: bool,
    key: &'a str,
    value: &'a str,
}

fn lines(text: &str) -> impl Iterator<Item = Line<'_>> {
    text.split('\n').filter_map(|raw| {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let content = raw.trim_start();
        if content.is_empty() || content.starts_with('#') {
            return None;
        }
        let mut indent = raw.len() - content.len();
        let (list_item, content) = match content.strip_prefix("- ").or((content == "-").then_some("")) {
            Some(rest) => {
                indent += 2;
                (true, rest.trim_start())
            }
            None => (false, content),
        };
        let (key, value) = content.split_once(':').unwrap_or((content, ""));
        Some(Line { indent, list_item, key: key.trim(), value: value.trim() })
    })
}

fn scalar(value: &str) -> String {
    let quoted = |q: char| value.len() >= 2 && value.starts_with(q) && value.ends_with(q);
    if quoted('"') || quoted('\'') {
        value[1..value.len() - 1].to_string()
    } else if value.starts_with(['{', '[', '|', '>']) {
        String::new()
    } else {
        value.split(" #").next().unwrap_or("").trim().to_string()
    }
}

/// The items of each top-level list, nested keys flattened, plus top-level scalars.
fn sections(text: &str) -> (BTreeMap<String, Vec<Item>>, Item) {
    let mut lists: BTreeMap<String, Vec<Item>> = BTreeMap::new();
    let mut top = Item::new();
    let mut section = String::new();
    for line in lines(text) {
        if line.indent == 0 && !line.list_item {
            section = line.key.to_string();
            top.insert(section.clone(), scalar(line.value));
            continue;
        }
        let items = lists.entry(section.clone()).or_default();
        if line.list_item && line.indent == 2 || items.is_empty() {
            items.push(Item::new());
        }
        if !line.value.is_empty() {
            items.last_mut().expect("pushed above").entry(line.key.to_string()).or_insert_with(|| scalar(line.value));
        }
    }
    (lists, top)
}

fn pick<'a>(items: Option<&'a Vec<Item>>, name: Option<&String>) -> Option<&'a Item> {
    let items = items?;
    name.and_then(|n| items.iter().find(|i| i.get("name") == Some(n))).or(items.first())
}

/// The items of each top-level list of a JSON kubeconfig, nested keys
/// flattened, plus top-level strings (`sections` for JSON).
fn json_sections(text: &str) -> (BTreeMap<String, Vec<Item>>, Item) {
    fn flatten(value: &Value, item: &mut Item) {
        for (key, value) in value.as_object().into_iter().flatten() {
            match value {
                Value::String(s) => {
                    item.entry(key.clone()).or_insert_with(|| s.clone());
                }
                value => flatten(value, item),
            }
        }
    }
    let mut lists = BTreeMap::new();
    let mut top = Item::new();
    if let Ok(Value::Object(map)) = parse_json(text) {
        for (key, value) in &map {
            match value {
                Value::String(s) => {
                    top.insert(key.clone(), s.clone());
                }
                Value::Array(items) => {
                    let items = items.iter().map(|i| {
                        let mut item = Item::new();
                        flatten(i, &mut item);
                        item
                    });
                    lists.insert(key.clone(), items.collect());
                }
                _ => {}
            }
        }
    }
    (lists, top)
}

fn without_bom(text: &str) -> &str {
    text.trim_start_matches('\u{feff}')
}

fn is_json(text: &str) -> bool {
    without_bom(text).trim_start().starts_with('{')
}

fn parse_json(text: &str) -> serde_json::Result<Value> {
    serde_json::from_str(without_bom(text))
}

pub fn read(text: &str) -> Kubeconfig {
    let (lists, top) = if is_json(text) { json_sections(text) } else { sections(text) };
    let current = top.get("current-context").filter(|c| !c.is_empty());
    let context = pick(lists.get("contexts"), current);
    let cluster = pick(lists.get("clusters"), context.and_then(|c| c.get("cluster")));
    let user = pick(lists.get("users"), context.and_then(|c| c.get("user")));
    let get = |item: Option<&Item>, key: &str| item.and_then(|i| i.get(key)).filter(|v| !v.is_empty()).cloned();
    Kubeconfig {
        server: get(cluster, "server"),
        context: current.cloned().or_else(|| get(context, "name")),
        user: get(context, "user"),
        client_certificate_data: get(user, "client-certificate-data"),
    }
}

fn is_boundary(c: char) -> bool {
    c.is_whitespace() || "\"'{}[],:?#&*!|>\u{feff}".contains(c)
}

/// The words of the text: what is left between spaces, quotes and the
/// characters YAML and JSON give a meaning (a key is always one of them).
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(is_boundary).filter(|w| !w.is_empty())
}

/// The text as a YAML or JSON reader spells its words: escapes (`\x65`,
/// `\u0065`) decoded, escaped line breaks joined, and folded to lower case, with
/// the two non-ASCII letters Go's case folding takes for `k` and `s`.
fn normalise(text: &str) -> String {
    let fold = |c: char| match c {
        '\u{212A}' => 'k',
        '\u{17F}' => 's',
        c => c.to_ascii_lowercase(),
    };
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        rest = &rest[c.len_utf8()..];
        if c == '\\' {
            let digits = match rest.chars().next() {
                Some('x') => 2,
                Some('u') => 4,
                Some('U') => 8,
                _ => 0,
            };
            let hex = rest.get(1..=digits).filter(|_| digits > 0);
            let value = hex.and_then(|h| h.chars().try_fold(0, |n: u32, c| Some(n * 16 + c.to_digit(16)?)));
            if let Some(decoded) = value.and_then(char::from_u32) {
                out.push(fold(decoded));
                rest = &rest[1 + digits..];
                continue;
            }
            if rest.starts_with(['\r', '\n']) {
                rest = rest.trim_start();
                continue;
            }
        }
        out.push(fold(c));
    }
    out
}

/// Each key written as a word, bare or quoted, and followed by `:` (block,
/// flow and JSON style alike), with the byte offset after its `:`.
fn keys(text: &str) -> impl Iterator<Item = (&str, usize)> {
    words(text).filter_map(move |word| {
        let start = word.as_ptr() as usize - text.as_ptr() as usize;
        let mut rest = &text[start + word.len()..];
        if let Some(quote) = text[..start].chars().next_back().filter(|c| matches!(c, '"' | '\'')) {
            rest = rest.strip_prefix(quote)?;
        }
        let after = rest.trim_start_matches([' ', '\t']).strip_prefix(':')?;
        Some((word, text.len() - after.len()))
    })
}

/// Where the quoted text `body` (after its opening quote) ends.
fn closing_quote(body: &str, quote: char) -> Option<usize> {
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        // `\"` inside double quotes, `''` inside single quotes.
        let escape = if quote == '"' { c == '\\' } else { c == '\'' && body[i + 1..].starts_with('\'') };
        if escape {
            chars.next();
        } else if c == quote {
            return Some(i);
        }
    }
    None
}

/// The one-line scalar after a key's `:` at `at`: its byte range and its value,
/// or no value when it is anything else (nothing, a block scalar, an alias, a
/// tag, a map or list, a quote that does not end on the line).
fn scalar_at(text: &str, at: usize) -> (Range<usize>, Option<String>) {
    let rest = text[at..].trim_start_matches([' ', '\t']);
    let start = text.len() - rest.len();
    let line = rest.split(['\r', '\n']).next().unwrap_or("");
    let (len, value) = match line.chars().next() {
        Some(quote @ ('"' | '\'')) => match closing_quote(&line[1..], quote) {
            Some(end) => {
                let inner = &line[1..1 + end];
                let value = if quote == '\'' {
                    Some(inner.replace("''", "'"))
                } else if inner.contains('\\') {
                    // As a JSON Value: a String of its own would cost 6 KB of wasm.
                    serde_json::from_str::<Value>(&line[..end + 2]).ok().and_then(|v| Some(v.as_str()?.to_string()))
                } else {
                    Some(inner.to_string())
                };
                (end + 2, value)
            }
            None => (0, None),
        },
        _ => {
            let end = line.find([',', ']', '}']).unwrap_or(line.len());
            let end = line[..end].match_indices('#').map(|(i, _)| i).find(|&i| line[..i].ends_with([' ', '\t'])).unwrap_or(end);
            let value = line[..end].trim_end();
            let simple = !value.is_empty() && !value.starts_with(['|', '>', '*', '&', '!', '{', '[', '%', '@', '`']);
            (value.len(), simple.then(|| value.to_string()))
        }
    };
    (start..start + len, value)
}

fn unreadable_file_key(key: &str) -> String {
    format!("kube.yml names its {key} file in a way this task cannot point into the bundle (write `{key}: <file>` or embed {key}-data)")
}

/// Why kubectl must not be given this kubeconfig: a key that makes it run a
/// program or send a file of the agent, a file it would read that
/// [`rewrite_file_references`] cannot point into the bundle, or broken JSON.
pub fn check(text: &str) -> Result<(), String> {
    let normal = normalise(text);
    // Every mention of a file key must be a key this task rewrites.
    let mut unread = [0usize; 3];
    for word in words(&normal) {
        if let Some((_, problem)) = REFUSED.iter().find(|(key, _)| *key == word) {
            return Err(format!("kube.yml {problem}, which a client bundle never does"));
        }
        if let Some(i) = FILE_KEYS.iter().position(|key| *key == word) {
            unread[i] += 1;
        }
    }
    for (key, _) in keys(text) {
        if let Some(i) = FILE_KEYS.iter().position(|k| *k == key) {
            unread[i] = unread[i].saturating_sub(1);
        }
    }
    if let Some(i) = unread.iter().position(|&n| n > 0) {
        return Err(unreadable_file_key(FILE_KEYS[i]));
    }
    if is_json(text) {
        parse_json(text).map_err(|e| format!("kube.yml starts with '{{' but is not valid JSON ({e})"))?;
    }
    Ok(())
}

/// Every credential in the file (`client-key-data`, `token`, `password`) of
/// every user, whatever the style; each line of a multi-line one.
pub fn secrets(text: &str) -> Vec<String> {
    let indent = |line: &str| line.len() - line.trim_start().len();
    let mut found = Vec::new();
    for (_, at) in keys(text).filter(|(k, _)| SECRET_KEYS.iter().any(|s| s.eq_ignore_ascii_case(k))) {
        let (range, value) = scalar_at(text, at);
        if let Some(value) = value {
            found.push(value);
            continue;
        }
        // A block scalar, a quote going on, or the value on the lines below: the lines indented deeper than the key.
        if !text[range.start..].starts_with(['\r', '\n', '|', '>', '"', '\'']) {
            continue;
        }
        let key_line = &text[text.as_bytes()[..at].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1)..];
        for line in text[range.start..].split('\n').skip(1).filter(|l| !l.trim().is_empty()) {
            if indent(line) <= indent(key_line) {
                break;
            }
            found.push(line.trim().trim_matches(['"', '\'']).to_string());
        }
    }
    found.retain(|s| !s.is_empty());
    found
}

/// The file references: key, the range of the value and the value (none when
/// it is not a one-line scalar). A key inside an earlier value is part of it.
fn references(text: &str) -> Vec<(&str, Range<usize>, Option<String>)> {
    let mut found: Vec<(&str, Range<usize>, Option<String>)> = Vec::new();
    for (key, at) in keys(text).filter(|(k, _)| FILE_KEYS.contains(k)) {
        if found.last().is_none_or(|(_, range, _)| range.end <= at) {
            let (range, value) = scalar_at(text, at);
            found.push((key, range, value));
        }
    }
    found
}

/// The file paths the kubeconfig names (`certificate-authority: ca.pem`, ...):
/// what the tests and the fuzz target check [`rewrite_file_references`] against.
pub fn file_references(text: &str) -> Vec<String> {
    references(text).into_iter().filter_map(|(_, _, value)| value).filter(|v| !v.is_empty()).collect()
}

/// `text` as a JSON string, which is also a YAML double-quoted one (by hand:
/// serde_json's serializer costs 2 KB of wasm).
fn quote_into(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c < ' ' => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(HEX[c as usize >> 4] as char);
                out.push(HEX[c as usize & 15] as char);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The kubeconfig with each file reference replaced by `resolve(path)`, in any
/// style; a reference that is not a one-line scalar is refused.
pub fn rewrite_file_references(text: &str, resolve: impl Fn(&str) -> Result<String, String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (key, range, value) in references(text) {
        let value = value.ok_or_else(|| unreadable_file_key(key))?;
        if value.is_empty() {
            continue;
        }
        out.push_str(&text[copied..range.start]);
        quote_into(&mut out, &resolve(&value)?);
        copied = range.end;
    }
    out.push_str(&text[copied..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KUBE_YML: &str = "apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: Q0E=
    server: https://ucp.example.com:6443
  name: ucp_ucp.example.com:6443_azure-devops
contexts:
- context:
    cluster: ucp_ucp.example.com:6443_azure-devops
    user: ucp_ucp.example.com:6443_azure-devops
  name: ucp_ucp.example.com:6443_azure-devops
current-context: ucp_ucp.example.com:6443_azure-devops
kind: Config
preferences: {}
users:
- name: ucp_ucp.example.com:6443_azure-devops
  user:
    client-certificate-data: Q0VSVA==
    client-key-data: S0VZ
";

    #[test]
    fn reads_a_bundle_kubeconfig() {
        let expected = Kubeconfig {
            server: Some("https://ucp.example.com:6443".into()),
            context: Some("ucp_ucp.example.com:6443_azure-devops".into()),
            user: Some("ucp_ucp.example.com:6443_azure-devops".into()),
            client_certificate_data: Some("Q0VSVA==".into()),
        };
        assert_eq!(read(KUBE_YML), expected);
        assert_eq!(read(&KUBE_YML.replace('\n', "\r\n")), expected);
        assert!(file_references(KUBE_YML).is_empty());
    }

    #[test]
    fn follows_the_current_context_among_several() {
        let text = "clusters:\n- name: a\n  cluster:\n    server: https://a:6443\n- name: b\n  cluster:\n    server: \"https://b:6443\"\n\
            contexts:\n- name: ca\n  context:\n    cluster: a\n    user: ua\n- name: cb\n  context:\n    cluster: b\n    user: ub\n\
            current-context: 'cb'\nusers:\n- name: ua\n  user:\n    client-certificate-data: QQ==\n- name: ub\n  user:\n    client-certificate-data: Qg==\n";
        let config = read(text);
        assert_eq!(config.server.as_deref(), Some("https://b:6443"));
        assert_eq!(config.user.as_deref(), Some("ub"));
        assert_eq!(config.client_certificate_data.as_deref(), Some("Qg=="));
    }

    #[test]
    fn rewrites_file_references_keeping_everything_else() {
        let text = "clusters:\r\n- cluster:\r\n    certificate-authority: ca.pem\r\n    server: https://h:6443\r\n\
            users:\r\n- name: u\r\n  user:\r\n    client-certificate: \"cert.pem\"\r\n    client-key: 'key.pem'\r\n";
        assert_eq!(file_references(text), ["ca.pem", "cert.pem", "key.pem"]);
        let rewritten = rewrite_file_references(text, |p| Ok(format!("/tmp/b/{p}"))).unwrap();
        assert_eq!(
            rewritten,
            "clusters:\r\n- cluster:\r\n    certificate-authority: \"/tmp/b/ca.pem\"\r\n    server: https://h:6443\r\n\
             users:\r\n- name: u\r\n  user:\r\n    client-certificate: \"/tmp/b/cert.pem\"\r\n    client-key: \"/tmp/b/key.pem\"\r\n"
        );
        assert_eq!(rewrite_file_references(text, |p| Err(p.to_string())).unwrap_err(), "ca.pem");
    }

    const KUBE_JSON: &str = r#"{
    "kind": "Config",
    "apiVersion": "v1",
    "preferences": {},
    "clusters": [
        {
            "name": "ucp_ucp.example.com:6443_azure-devops",
            "cluster": {
                "server": "https://ucp.example.com:6443",
                "certificate-authority-data": "Q0E="
            }
        }
    ],
    "users": [
        {
            "name": "ucp_ucp.example.com:6443_azure-devops",
            "user": {
                "client-certificate-data": "Q0VSVA==",
                "client-key-data": "S0VZ"
            }
        }
    ],
    "contexts": [
        {
            "name": "ucp_ucp.example.com:6443_azure-devops",
            "context": {
                "cluster": "ucp_ucp.example.com:6443_azure-devops",
                "user": "ucp_ucp.example.com:6443_azure-devops"
            }
        }
    ],
    "current-context": "ucp_ucp.example.com:6443_azure-devops"
}"#;

    #[test]
    fn reads_a_json_kubeconfig_like_its_yaml() {
        assert_eq!(check(KUBE_JSON), Ok(()));
        assert_eq!(read(KUBE_JSON), read(KUBE_YML));
        assert_eq!(read(&format!("\u{feff}\n{KUBE_JSON}")).server.as_deref(), Some("https://ucp.example.com:6443"));
        assert_eq!(secrets(KUBE_JSON), ["S0VZ"]);
        assert_eq!(secrets(KUBE_YML), ["S0VZ"]);
        let minified: String = KUBE_JSON.split_whitespace().collect();
        assert_eq!(read(&minified), read(KUBE_YML));
        assert_eq!(secrets(&minified), ["S0VZ"]);
        assert!(check("{apiVersion: v1}").unwrap_err().starts_with("kube.yml starts with '{' but is not valid JSON"));
    }

    #[test]
    fn refuses_whatever_runs_a_program_or_sends_a_file_in_any_style() {
        let exec = "asks kubectl to run a command (users[].user.exec)";
        for (text, problem) in [
            ("users:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: sh\n", exec),
            ("users: [{name: u, user: {exec: {command: sh, args: [-c, id]}}}]", exec),
            (r#"{"users":[{"name":"u","user":{"exec":{"command":"sh"}}}]}"#, exec),
            (r#"{"users":[{"name":"u","user":{"\u0065xec":{"command":"sh"}}}]}"#, exec),
            ("users:\n- user:\n    \"\\x65xec\": {command: sh}\n", exec),
            ("users:\n- user:\n    \"ex\\\n      ec\": {command: sh}\n", exec),
            ("users:\n- user:\n    Exec: {command: sh}\n", exec),
            ("users:\n- user:\n    ? exec\n    : {command: sh}\n", exec),
            ("users:\n- user:\n    'exec' : {command: sh}\n", exec),
            ("users:\n- user:\n    !!binary ZXhlYw==: {command: sh}\n", "uses YAML's !!binary tag"),
            ("users:\n- user:\n    auth-provider:\n      name: gcp\n      config:\n        cmd-path: /bin/sh\n", "(users[].user.auth-provider)"),
            ("users:\n- user:\n    tokenFile: /home/agent/.docker/config.json\n", "send a file of this agent as its token"),
            (r#"{"users":[{"user":{"tokenFile":"/etc/hostname"}}]}"#, "(users[].user.tokenFile)"),
            ("users:\n- user:\n    to\u{212A}enFile: /etc/hostname\n", "(users[].user.tokenFile)"),
        ] {
            let error = check(text).unwrap_err();
            assert!(error.starts_with("kube.yml ") && error.contains(problem), "{text}: {error}");
            assert!(error.ends_with(", which a client bundle never does"), "{error}");
        }
        // The same letters inside other words are nothing.
        let harmless = "clusters:\n- cluster:\n    server: https://exec.example.com:6443\n    certificate-authority-data: AB+exec/tokenFile=\n\
            users:\n- name: ucp_exec.example.com:6443_exec-team\n  user:\n    client-key-data: S0VZ\n";
        assert_eq!(check(harmless), Ok(()));
    }

    #[test]
    fn every_file_reference_is_rewritten_or_refused_in_any_style() {
        let flow = "users: [{name: u, user: {client-key: /etc/ssl/key.pem, client-certificate: 'cert.pem'}}]";
        assert_eq!(check(flow), Ok(()));
        assert_eq!(
            rewrite_file_references(flow, |p| Ok(format!("/b/{p}"))).unwrap(),
            "users: [{name: u, user: {client-key: \"/b//etc/ssl/key.pem\", client-certificate: \"/b/cert.pem\"}}]"
        );
        let json = r#"{"clusters":[{"cluster":{"certificate-authority":"C:\\bundle\\ca.pem","server":"https://h:6443"}}]}"#;
        assert_eq!(check(json), Ok(()));
        assert_eq!(file_references(json), ["C:\\bundle\\ca.pem"]);
        assert_eq!(
            rewrite_file_references(json, |_| Ok("/b/ca.pem".into())).unwrap(),
            r#"{"clusters":[{"cluster":{"certificate-authority":"/b/ca.pem","server":"https://h:6443"}}]}"#
        );
        // A key inside a value is part of the value.
        let inside = "users:\n- user:\n    client-key: 'x client-key: /etc/shadow'\n";
        assert_eq!(file_references(inside), ["x client-key: /etc/shadow"]);
        assert_eq!(rewrite_file_references(inside, |_| Ok("k".into())).unwrap(), "users:\n- user:\n    client-key: \"k\"\n");
        // What the rewrite cannot read is refused, not passed through.
        for text in [
            "users:\n- user:\n    ? client-key\n    : /etc/shadow\n",
            "users:\n- user:\n    Client-Key: /etc/shadow\n",
            "users:\n- user:\n    \"client\\x2dkey\": /etc/shadow\n",
            r#"{"users":[{"user":{"client\u002dkey":"/etc/shadow"}}]}"#,
        ] {
            assert!(check(text).unwrap_err().starts_with("kube.yml names its client-key file in a way"), "{text}");
        }
        for text in [
            "users:\n- user:\n    client-key: |-\n      /etc/shadow\n",
            "users:\n- user:\n    client-key:\n      /etc/shadow\n",
            "x: &k /etc/shadow\nusers:\n- user:\n    client-key: *k\n",
            "users:\n- user:\n    client-key: \"/etc/\n      shadow\"\n",
        ] {
            assert_eq!(check(text), Ok(()), "{text}");
            let error = rewrite_file_references(text, |p| Ok(p.to_string())).unwrap_err();
            assert!(error.starts_with("kube.yml names its client-key file in a way this task cannot point into the bundle"), "{error}");
        }
    }

    #[test]
    fn finds_every_credential_of_every_user_in_any_style() {
        let text = "users:\n- name: a\n  user:\n    client-key-data: QUFB\n- name: b\n  user:\n    token: 'tok''en'\n\
            - name: c\n  user: {username: admin, password: \"p@ss # not a comment\"}\n- name: d\n  user:\n    client-key-data: |\n      \
            TElORTE=\n      TElORTI=\n    username: d\n- name: e\n  user:\n    Token:\n      continued-token\n";
        assert_eq!(secrets(text), ["QUFB", "tok'en", "p@ss # not a comment", "TElORTE=", "TElORTI=", "continued-token"]);
        assert_eq!(secrets(r#"{"users":[{"user":{"token":"a\"b"}},{"user":{"password":"c"}}]}"#), ["a\"b", "c"]);
        assert!(secrets("users:\n- user:\n    token: \"\"\n    password:\n").is_empty());
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_checked_read_and_rewritten_without_panicking(pieces in proptest::collection::vec(proptest::sample::select(vec![
            "client-key", "certificate-authority", "token", "password", "exec", "user", ": ", ":", "'", "\"", "\n", "\r\n", "  ",
            "{", "}", ",", "[", "]", " #", "|", "\\", "\\x65", "x", "ca.pem", "/etc/y", "- ", "? ", "&a ", "*a", "\u{212A}", "é",
        ]), 0..40)) {
            let text: String = pieces.concat();
            let _ = check(&text);
            let _ = read(&text);
            proptest::prop_assert!(secrets(&text).iter().all(|s| !s.is_empty()));
            if let Ok(rewritten) = rewrite_file_references(&text, |p| Ok(format!("/d/{}", p.len()))) {
                proptest::prop_assert_eq!(rewritten.split('\n').count(), text.split('\n').count());
                proptest::prop_assert!(file_references(&rewritten).iter().all(|p| p.starts_with("/d/")), "{:?}", rewritten);
            }
        }
    }
}
