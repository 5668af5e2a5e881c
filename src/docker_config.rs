//! The job-scoped Docker `config.json`: where it lives, its contents when a
//! registry is added, and what the post-job step may remove.

use crate::error::{Result, TaskError};
use crate::temp_paths::removable_inside;
use serde_json::{Map, Value};

/// The Docker config a new login starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `DOCKER_CONFIG` already names a directory of this job: add to its file.
    Merge { directory: String },
    /// Create a fresh directory; `carry_from` is the user's own config file,
    /// read (never written) for what `create` carries over: its other `auths`
    /// entries, credential helpers, proxies and plugin folders.
    Create { carry_from: String },
}

/// Decides where the login goes. A `DOCKER_CONFIG` outside the job's temp
/// directory (or none) is the user's own and is never written to. Both paths
/// are real paths (the shim resolves symlinks; a missing directory is None).
pub fn target(agent_temp: &str, docker_config: Option<&str>, home: Option<&str>) -> Target {
    let docker_config = docker_config.map(str::trim).filter(|d| !d.is_empty());
    match docker_config {
        Some(dir) if removable_inside(agent_temp, dir) => Target::Merge { directory: dir.trim_end_matches('/').to_string() },
        Some(dir) => Target::Create { carry_from: format!("{}/config.json", dir.trim_end_matches('/')) },
        None => Target::Create { carry_from: format!("{}/.docker/config.json", home.unwrap_or("").trim_end_matches('/')) },
    }
}

fn parse(text: &str, path: &str) -> Result<Map<String, Value>> {
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str(text) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(TaskError::other(format!("{path} is not a Docker config file (a JSON object); the task does not overwrite it"))),
    }
}

fn render(config: &Map<String, Value>) -> String {
    let mut text = serde_json::to_string_pretty(config).expect("a JSON map always serialises");
    text.push('\n');
    text
}

/// The new file's contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub contents: String,
    /// Why docker may not read the entry this file now holds.
    pub warnings: Vec<String>,
}

/// Adds (or replaces) `registry` in an existing job config, keeping every
/// other key: other registries, `credHelpers`, `credsStore`, proxies.
/// With `auth` None (docker login writes the entry itself) nothing is added.
pub fn merge(existing: &str, path: &str, registry: &str, auth: Option<&str>) -> Result<Written> {
    let mut config = parse(existing, path)?;
    let mut warnings = Vec::new();
    if let Some(auth) = auth {
        let auths = config.entry("auths").or_insert_with(|| Value::Object(Map::new()));
        let Value::Object(auths) = auths else {
            return Err(TaskError::other(format!("{path} has an \"auths\" that is not an object; the task does not overwrite it")));
        };
        let mut entry = Map::new();
        entry.insert("auth".into(), Value::String(auth.to_string()));
        auths.insert(registry.to_string(), Value::Object(entry));
        if let Some(helper) = config.get("credHelpers").and_then(|h| h.get(registry)).and_then(Value::as_str) {
            warnings.push(format!(
                "{path} sends {registry} to the credential helper \"{helper}\", so docker will not read the credentials written here; use loginMethod: docker"
            ));
        } else if let Some(store) = config.get("credsStore").and_then(Value::as_str) {
            warnings.push(format!(
                "{path} uses the credential store \"{store}\", so docker will not read the credentials written here; use loginMethod: docker"
            ));
        }
    }
    Ok(Written { contents: render(&config), warnings })
}

/// The registry host docker compares an `auths` key with (`https://h/v1/` → `h`).
fn auths_key_host(key: &str) -> &str {
    let rest = key.strip_prefix("https://").or_else(|| key.strip_prefix("http://")).unwrap_or(key);
    rest.split('/').next().unwrap_or(rest)
}

/// A fresh config. It keeps the user's logins to other registries (their
/// `auths` entries and credential helpers) so later steps still pull from
/// them; for a `config` login (`auth` given) it leaves out what would hide the
/// new entry from docker: a `credsStore` and a helper for this registry, and
/// warns when a `credsStore` is left out (logins held only there are gone).
/// `user_path` is the user's file, only named in that warning.
///
/// docker looks for CLI plugins (buildx) in `$DOCKER_CONFIG/cli-plugins`, so the
/// user's own plugin folder (`user_plugins`, when there is one) and extra plugin
/// folders are listed in `cliPluginsExtraDirs`; it passes the `proxies` of its
/// config to builds, so those are kept too.
pub fn create(user_config: Option<&str>, user_path: &str, user_plugins: Option<&str>, registry: &str, auth: Option<&str>) -> Written {
    let user = user_config.and_then(|t| serde_json::from_str::<Value>(t).ok());
    let mut config = Map::new();
    if let Some(Value::Object(auths)) = user.as_ref().and_then(|u| u.get("auths")) {
        let others: Map<String, Value> = auths
            .iter()
            .filter(|(key, entry)| entry.is_object() && !auths_key_host(key).eq_ignore_ascii_case(registry))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !others.is_empty() {
            config.insert("auths".into(), Value::Object(others));
        }
    }
    if let Some(proxies @ Value::Object(_)) = user.as_ref().and_then(|u| u.get("proxies")) {
        config.insert("proxies".into(), proxies.clone());
    }
    let mut plugin_dirs: Vec<Value> = user_plugins.map(|d| Value::String(d.to_string())).into_iter().collect();
    if let Some(Value::Array(extra)) = user.as_ref().and_then(|u| u.get("cliPluginsExtraDirs")) {
        plugin_dirs.extend(extra.iter().filter(|d| d.is_string()).cloned());
    }
    if !plugin_dirs.is_empty() {
        config.insert("cliPluginsExtraDirs".into(), Value::Array(plugin_dirs));
    }
    if let Some(Value::Object(helpers)) = user.as_ref().and_then(|u| u.get("credHelpers")) {
        let kept: Map<String, Value> = helpers
            .iter()
            .filter(|(host, helper)| helper.is_string() && !(auth.is_some() && host.as_str() == registry))
            .map(|(h, v)| (h.clone(), v.clone()))
            .collect();
        if !kept.is_empty() {
            config.insert("credHelpers".into(), Value::Object(kept));
        }
    }
    let store = user.as_ref().and_then(|u| u.get("credsStore")).and_then(Value::as_str).filter(|s| !s.is_empty());
    let mut warnings = Vec::new();
    match (store, auth) {
        (Some(store), None) => {
            config.insert("credsStore".into(), Value::String(store.to_string()));
        }
        (Some(store), Some(_)) => warnings.push(format!(
            "{user_path} keeps logins in the credential store \"{store}\", which this job's Docker config leaves out \
             (docker would not read the credentials written here); registries logged in to only in that store \
             are not available to later steps (log in to them in this job too, or use loginMethod: docker)"
        )),
        (None, _) => {}
    }
    let mut written = merge(&render(&config), "config.json", registry, auth).expect("a map the core built is valid");
    written.warnings = warnings;
    written
}

/// The credential helper docker keeps `registry`'s login in with this config
/// (`docker-credential-<name>`): its helper for the registry, else its
/// `credsStore`. None: the login goes into the file itself.
pub fn credential_helper(config: &str, registry: &str) -> Option<String> {
    let config: Value = serde_json::from_str(config).ok()?;
    let helper = match config.get("credHelpers").and_then(|h| h.get(registry)) {
        Some(helper) => helper.as_str(),
        None => config.get("credsStore").and_then(Value::as_str),
    }?;
    let valid = !helper.is_empty() && helper.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    valid.then(|| helper.to_string())
}

/// The post-job's answer for one config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cleanup {
    /// The task created the directory: remove it whole.
    RemoveDirectory(String),
    /// Rewrite the file without the registry this task added.
    Rewrite(String),
    /// Leave everything as it is, and say why.
    Leave(String),
}

/// What the post-job step removes. Nothing outside the job's temp directory
/// is touched, whatever the task variables say.
pub fn cleanup(agent_temp: &str, directory: &str, created: bool, registry: &str, existing: Option<&str>) -> Cleanup {
    if !removable_inside(agent_temp, directory) {
        return Cleanup::Leave(format!("{directory} is not inside Agent.TempDirectory; left as it is"));
    }
    if created {
        return Cleanup::RemoveDirectory(directory.to_string());
    }
    let Some(existing) = existing else {
        return Cleanup::Leave(format!("{directory}/config.json is already gone"));
    };
    let Ok(mut config) = parse(existing, directory) else {
        return Cleanup::Leave(format!("{directory}/config.json is no longer a Docker config file; left as it is"));
    };
    let removed = config.get_mut("auths").and_then(Value::as_object_mut).and_then(|a| a.remove(registry));
    match removed {
        Some(_) => Cleanup::Rewrite(render(&config)),
        None => Cleanup::Leave(format!("{directory}/config.json no longer holds {registry}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn json(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn chooses_merge_only_inside_the_job_temp() {
        assert_eq!(target("/w/_temp", Some("/w/_temp/msr-login-1/"), None), Target::Merge { directory: "/w/_temp/msr-login-1".into() });
        assert_eq!(
            target("/w/_temp", Some("/home/u/.docker"), Some("/home/u")),
            Target::Create { carry_from: "/home/u/.docker/config.json".into() }
        );
        assert_eq!(target("/w/_temp", Some(" "), Some("/home/u/")), Target::Create { carry_from: "/home/u/.docker/config.json".into() });
        assert_eq!(target("/w/_temp", Some("/w/_temp/../etc"), Some("/h")), Target::Create { carry_from: "/w/_temp/../etc/config.json".into() });
    }

    #[test]
    fn creates_the_documented_shape() {
        let written = create(None, "c", None, "msr.example.com", Some("dTpw"));
        assert_eq!(json(&written.contents), json(r#"{"auths":{"msr.example.com":{"auth":"dTpw"}}}"#));
        assert!(written.warnings.is_empty());
    }

    #[test]
    fn fresh_config_keeps_helpers_that_do_not_hide_the_entry() {
        let user = r#"{"auths":{"other.io":{"auth":"c2VjcmV0"}},"credsStore":"desktop",
                       "credHelpers":{"msr.example.com":"msr","gcr.io":"gcloud"}}"#;
        let written = create(Some(user), "/h/.docker/config.json", None, "msr.example.com", Some("dTpw"));
        assert_eq!(
            json(&written.contents),
            json(r#"{"auths":{"other.io":{"auth":"c2VjcmV0"},"msr.example.com":{"auth":"dTpw"}},"credHelpers":{"gcr.io":"gcloud"}}"#)
        );
        // The store is left out, and the warning says so.
        assert_eq!(written.warnings.len(), 1);
        assert!(written.warnings[0].starts_with("/h/.docker/config.json keeps logins in the credential store \"desktop\""), "{:?}", written.warnings);
        // docker login stores the token through the user's helpers and store.
        let docker = create(Some(user), "/h/.docker/config.json", None, "msr.example.com", None);
        assert_eq!(
            json(&docker.contents),
            json(r#"{"auths":{"other.io":{"auth":"c2VjcmV0"}},"credsStore":"desktop","credHelpers":{"msr.example.com":"msr","gcr.io":"gcloud"}}"#)
        );
        assert!(docker.warnings.is_empty());
        assert_eq!(json(&create(Some("not json"), "c", None, "r", None).contents), json("{}"));
    }

    #[test]
    fn fresh_config_keeps_the_users_other_logins_but_replaces_this_registry() {
        let user = r#"{"auths":{"other.io":{"auth":"b3RoZXI="},"https://index.docker.io/v1/":{"auth":"aHViOng="},
                       "https://MSR.example.com/v2/":{"auth":"b2xk"},"msr.example.com":{"auth":"b2xk"},"bad":"x"}}"#;
        let written = create(Some(user), "c", None, "msr.example.com", Some("bmV3"));
        assert_eq!(
            json(&written.contents),
            json(r#"{"auths":{"other.io":{"auth":"b3RoZXI="},"https://index.docker.io/v1/":{"auth":"aHViOng="},
                              "msr.example.com":{"auth":"bmV3"}}}"#)
        );
        assert!(written.warnings.is_empty());
    }

    #[test]
    fn fresh_config_keeps_the_users_proxies_and_plugins() {
        let user = r#"{"proxies":{"default":{"httpProxy":"http://p:3128"}},"cliPluginsExtraDirs":["/opt/plugins"],"auths":{}}"#;
        let written = create(Some(user), "c", Some("/h/.docker/cli-plugins"), "r", Some("eA=="));
        assert_eq!(
            json(&written.contents),
            json(r#"{"auths":{"r":{"auth":"eA=="}},"proxies":{"default":{"httpProxy":"http://p:3128"}},
                     "cliPluginsExtraDirs":["/h/.docker/cli-plugins","/opt/plugins"]}"#)
        );
    }

    #[test]
    fn finds_the_credential_helper_docker_would_use() {
        let config = r#"{"credsStore":"pass","credHelpers":{"gcr.io":"gcloud","file.io":""}}"#;
        assert_eq!(credential_helper(config, "msr.example.com").as_deref(), Some("pass"));
        assert_eq!(credential_helper(config, "gcr.io").as_deref(), Some("gcloud"));
        assert_eq!(credential_helper(config, "file.io"), None, "an empty helper means the file");
        assert_eq!(credential_helper(r#"{"auths":{}}"#, "r"), None);
        assert_eq!(credential_helper(r#"{"credsStore":"../../bin/x"}"#, "r"), None);
        assert_eq!(credential_helper("garbage", "r"), None);
    }

    #[test]
    fn merge_keeps_everything_else() {
        let existing = r#"{"auths":{"a.io":{"auth":"YTpi"},"msr.example.com":{"auth":"b2xk"}},
                           "credHelpers":{"gcr.io":"gcloud"},"proxies":{"default":{"httpProxy":"http://p:3128"}}}"#;
        let written = merge(existing, "/t/config.json", "msr.example.com", Some("bmV3")).unwrap();
        assert_eq!(
            json(&written.contents),
            json(r#"{"auths":{"a.io":{"auth":"YTpi"},"msr.example.com":{"auth":"bmV3"}},
                     "credHelpers":{"gcr.io":"gcloud"},"proxies":{"default":{"httpProxy":"http://p:3128"}}}"#)
        );
        assert!(written.warnings.is_empty());
        assert_eq!(json(&merge("", "/t/config.json", "r", Some("eA==")).unwrap().contents), json(r#"{"auths":{"r":{"auth":"eA=="}}}"#));
    }

    #[test]
    fn merge_warns_when_docker_would_look_elsewhere() {
        let store = merge(r#"{"credsStore":"pass"}"#, "/t/config.json", "r", Some("eA==")).unwrap();
        assert!(store.warnings[0].contains("credential store \"pass\""), "{:?}", store.warnings);
        assert!(json(&store.contents)["credsStore"] == "pass");
        let helper = merge(r#"{"credHelpers":{"r":"h"}}"#, "/t/config.json", "r", Some("eA==")).unwrap();
        assert!(helper.warnings[0].contains("credential helper \"h\""));
    }

    #[test]
    fn merge_refuses_files_it_cannot_understand() {
        for bad in ["[]", "{", r#"{"auths":[]}"#, "\"x\""] {
            let error = merge(bad, "/t/config.json", "r", Some("eA==")).unwrap_err().to_string();
            assert!(error.starts_with("/t/config.json "), "{error}");
        }
    }

    #[test]
    fn cleanup_removes_only_what_the_task_added_inside_temp() {
        assert_eq!(cleanup("/w/_temp", "/w/_temp/d", true, "r", None), Cleanup::RemoveDirectory("/w/_temp/d".into()));
        let existing = r#"{"auths":{"a.io":{"auth":"YTpi"},"r":{"auth":"eA=="}},"credsStore":"pass"}"#;
        let Cleanup::Rewrite(text) = cleanup("/w/_temp", "/w/_temp/d", false, "r", Some(existing)) else { panic!() };
        assert_eq!(json(&text), json(r#"{"auths":{"a.io":{"auth":"YTpi"}},"credsStore":"pass"}"#));
        for (dir, created, existing) in [
            ("/home/u/.docker", true, None),
            ("/w/_temp", true, None),
            ("/w/_temp/../u", true, None),
            ("/w/_temp/d", false, None),
            ("/w/_temp/d", false, Some("garbage")),
            ("/w/_temp/d", false, Some(r#"{"auths":{"a.io":{}}}"#)),
        ] {
            assert!(matches!(cleanup("/w/_temp", dir, created, "r", existing), Cleanup::Leave(_)), "{dir}");
        }
    }

    /// Any JSON a config.json may hold: docker ignores keys it does not know.
    /// Floats are left out: without its `float_roundtrip` feature serde_json
    /// may read a float back one unit in the last place off.
    fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            "\\PC{0,8}".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map("\\PC{0,6}", inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn a_parsed_and_rendered_config_keeps_every_other_registry(
            others in proptest::collection::btree_map("\\PC{0,12}", any_json(), 0..4),
            extra in proptest::collection::btree_map("\\PC{0,8}", any_json(), 0..4),
            registry in "[a-z0-9.-]{1,12}(:[0-9]{1,5})?",
        ) {
            let mut config: Map<String, Value> = extra.into_iter().filter(|(k, _)| k != "auths").collect();
            config.insert("auths".into(), Value::Object(others.clone().into_iter().collect()));
            let text = Value::Object(config.clone()).to_string();
            let before = json(&text);
            let merged = json(&merge(&text, "/t/config.json", &registry, Some("eA==")).unwrap().contents);
            for (key, value) in before.as_object().unwrap().iter().filter(|(k, _)| *k != "auths") {
                prop_assert_eq!(&merged[key], value, "{} changed", key);
            }
            for (other, value) in before["auths"].as_object().unwrap().iter().filter(|(r, _)| **r != registry) {
                prop_assert_eq!(&merged["auths"][other], value, "{} changed", other);
            }
            prop_assert_eq!(&merged["auths"][&registry], &serde_json::json!({ "auth": "eA==" }));
        }

        #[test]
        fn merge_then_cleanup_restores_other_registries(
            others in proptest::collection::btree_map("[a-z]{1,8}\\.io", "[A-Za-z0-9=]{1,12}", 0..4),
            auth in "[A-Za-z0-9=]{4,12}",
        ) {
            let auths: Map<String, Value> = others.iter()
                .map(|(k, v)| (k.clone(), serde_json::json!({ "auth": v })))
                .collect();
            let before = serde_json::json!({ "auths": auths, "credHelpers": { "gcr.io": "gcloud" } });
            let merged = merge(&before.to_string(), "/t/config.json", "msr.example.com", Some(&auth)).unwrap();
            prop_assert_eq!(&json(&merged.contents)["auths"]["msr.example.com"]["auth"], &Value::String(auth.clone()));
            let Cleanup::Rewrite(after) = cleanup("/t", "/t/d", false, "msr.example.com", Some(&merged.contents)) else {
                panic!("expected a rewrite");
            };
            prop_assert_eq!(json(&after), before);
        }
    }
}
