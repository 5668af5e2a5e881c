//! Reads the parts of a bundle's `kube.yml` the tasks need, with a reader for
//! the small YAML subset kubeconfig files use (block maps and lists of
//! scalars), and points file references at the extracted bundle.

use std::collections::BTreeMap;

/// The keys whose value is a file; bundles embed `*-data` instead, but a
/// hand-made one may name files next to it.
const FILE_KEYS: [&str; 3] = ["certificate-authority", "client-certificate", "client-key"];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Kubeconfig {
    pub server: Option<String>,
    pub context: Option<String>,
    pub user: Option<String>,
    /// Base64 of the client certificate, when embedded.
    pub client_certificate_data: Option<String>,
    /// Base64 of the private key, when embedded: a secret.
    pub client_key_data: Option<String>,
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

pub fn read(text: &str) -> Kubeconfig {
    let (lists, top) = sections(text);
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
        client_key_data: get(user, "client-key-data"),
    }
}

/// The file paths the kubeconfig names (`certificate-authority: ca.pem`, ...).
pub fn file_references(text: &str) -> Vec<String> {
    lines(text).filter(|l| FILE_KEYS.contains(&l.key)).map(|l| scalar(l.value)).filter(|v| !v.is_empty()).collect()
}

/// The kubeconfig with each file reference replaced by `resolve(path)`.
pub fn rewrite_file_references(text: &str, resolve: impl Fn(&str) -> Result<String, String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    for (i, raw) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let (body, cr) = raw.strip_suffix('\r').map_or((raw, ""), |b| (b, "\r"));
        match lines(body).next().filter(|l| FILE_KEYS.contains(&l.key) && !scalar(l.value).is_empty()) {
            Some(line) => {
                let key_end = body.find(line.key).expect("key is in the line") + line.key.len();
                let path = resolve(&scalar(line.value))?;
                // JSON string syntax is YAML double-quoted syntax.
                let quoted = serde_json::to_string(&path).expect("a string serialises");
                out.push_str(&format!("{}: {quoted}{cr}", &body[..key_end]));
            }
            None => out.push_str(raw),
        }
    }
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
            client_key_data: Some("S0VZ".into()),
        };
        assert_eq!(read(KUBE_YML), expected);
        assert_eq!(read(&KUBE_YML.replace('\n', "\r\n")), expected);
        assert!(file_references(KUBE_YML).is_empty());
    }

    #[test]
    fn follows_the_current_context_among_several() {
        let text = "clusters:\n- name: a\n  cluster:\n    server: https://a:6443\n- name: b\n  cluster:\n    server: \"https://b:6443\"\n\
            contexts:\n- name: ca\n  context:\n    cluster: a\n    user: ua\n- name: cb\n  context:\n    cluster: b\n    user: ub\n\
            current-context: 'cb'\nusers:\n- name: ua\n  user:\n    client-key-data: QQ==\n- name: ub\n  user:\n    client-key-data: Qg==\n";
        let config = read(text);
        assert_eq!(config.server.as_deref(), Some("https://b:6443"));
        assert_eq!(config.user.as_deref(), Some("ub"));
        assert_eq!(config.client_key_data.as_deref(), Some("Qg=="));
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
}
