//! Talking to a registry's `/v2/` endpoint to check credentials: the registry
//! host as pipeline authors type it, the `WWW-Authenticate` challenges it
//! answers with, and the sequence of requests of the Docker registry token
//! protocol. The shim performs each request and hands the answer back; this
//! module decides the next request or the verdict.

use crate::error::{Result, TaskError};
use base64::Engine;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Normalises a registry as typed (`https://MSR.example.com:8443/`) to the
/// `host[:port]` that Docker uses as the `config.json` key.
pub fn normalise_registry(input: &str, value: &str) -> Result<String> {
    let value = value.trim();
    // Before any message quotes the value: credentials typed into it must not reach the log.
    let after_scheme = value.split_once("://").map_or(value, |(_, rest)| rest);
    if after_scheme.split('/').next().unwrap_or("").contains('@') {
        return Err(TaskError::input(input, "the value contains credentials (user:token@); pass them in 'username' and 'accessToken'"));
    }
    let rest = strip_prefix_ignore_case(value, "https://").unwrap_or(value);
    if rest.contains("://") {
        return Err(TaskError::input(input, format!("\"{value}\" is not an HTTPS address; give the MSR host, for example msr.example.com")));
    }
    let host_port = rest.strip_suffix('/').unwrap_or(rest);
    if host_port.contains('/') {
        return Err(TaskError::input(input, format!("\"{value}\" has a path; give only the MSR host and optional port, for example msr.example.com:8443")));
    }
    let (host, port) = split_port(host_port).ok_or_else(|| invalid_host(input, value))?;
    if !valid_host(host) {
        return Err(invalid_host(input, value));
    }
    if let Some(port) = port.filter(|p| !valid_port(p)) {
        return Err(TaskError::input(input, format!("\"{value}\" has an invalid port \"{port}\"")));
    }
    Ok(host_port.to_ascii_lowercase())
}

fn invalid_host(input: &str, value: &str) -> TaskError {
    if value.is_empty() {
        TaskError::input(input, "a value is required")
    } else {
        TaskError::input(input, format!("\"{value}\" is not a valid host name with optional port, for example msr.example.com:8443"))
    }
}

fn strip_prefix_ignore_case<'a>(value: &'a str, prefix: &str) -> Option<&'a str> {
    let head = value.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &value[prefix.len()..])
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`.
fn split_port(value: &str) -> Option<(&str, Option<&str>)> {
    if let Some(rest) = value.strip_prefix('[') {
        let close = rest.find(']')?;
        let after = &rest[close + 1..];
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':')?),
        };
        return Some((&value[..close + 2], port));
    }
    match value.split_once(':') {
        Some((host, port)) => Some((host, Some(port))),
        None => Some((value, None)),
    }
}

fn valid_host(host: &str) -> bool {
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return !inner.is_empty() && inner.chars().all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.');
    }
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// One challenge of a `WWW-Authenticate` header; parameter names lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub scheme: String,
    pub params: BTreeMap<String, String>,
}

/// Parses a `WWW-Authenticate` value (RFC 7235): several challenges separated
/// by commas, each a scheme followed by `name=value` or `name="quoted"`
/// parameters (or a token68). Malformed pieces are skipped, never fatal: a
/// registry's header is not ours to reject, only to find a usable scheme in.
pub fn parse_challenges(header: &str) -> Vec<Challenge> {
    let mut lexer = Lexer { rest: header };
    let mut challenges: Vec<Challenge> = Vec::new();
    loop {
        lexer.skip_separators();
        let Some(token) = lexer.token() else {
            if lexer.rest.is_empty() {
                break;
            }
            lexer.skip_garbage();
            continue;
        };
        lexer.skip_spaces();
        if lexer.rest.starts_with('=') && !challenges.is_empty() {
            // `name=value` after a comma continues the current challenge.
            lexer.rest = &lexer.rest[1..];
            lexer.skip_spaces();
            let value = lexer.value();
            challenges.last_mut().unwrap().params.entry(token.to_ascii_lowercase()).or_insert(value);
            continue;
        }
        let mut challenge = Challenge { scheme: token.to_string(), params: BTreeMap::new() };
        // Parameters separated by commas until a token without `=` starts the next challenge.
        loop {
            lexer.skip_spaces();
            let save = lexer.rest;
            let Some(name) = lexer.token() else { break };
            lexer.skip_spaces();
            if !lexer.rest.starts_with('=') {
                lexer.rest = save;
                break;
            }
            lexer.rest = &lexer.rest[1..];
            if lexer.rest.starts_with('=') || lexer.rest.trim_start().is_empty() || lexer.rest.trim_start().starts_with(',') {
                // token68 padding (`abc==`): not a parameter.
                lexer.rest = lexer.rest.trim_start_matches('=');
                break;
            }
            lexer.skip_spaces();
            let value = lexer.value();
            challenge.params.entry(name.to_ascii_lowercase()).or_insert(value);
            lexer.skip_spaces();
            if lexer.rest.starts_with(',') {
                lexer.rest = &lexer.rest[1..];
                lexer.skip_separators();
                let save = lexer.rest;
                let next = lexer.token();
                lexer.skip_spaces();
                let continues = next.is_some() && lexer.rest.starts_with('=');
                lexer.rest = save;
                if !continues {
                    break;
                }
            } else {
                break;
            }
        }
        challenges.push(challenge);
    }
    challenges
}

struct Lexer<'a> {
    rest: &'a str,
}

impl<'a> Lexer<'a> {
    fn skip_spaces(&mut self) {
        self.rest = self.rest.trim_start_matches([' ', '\t']);
    }

    fn skip_separators(&mut self) {
        self.rest = self.rest.trim_start_matches([' ', '\t', ',']);
    }

    fn skip_garbage(&mut self) {
        let mut chars = self.rest.chars();
        chars.next();
        self.rest = chars.as_str();
    }

    fn token(&mut self) -> Option<&'a str> {
        let end = self.rest.find(|c: char| !is_tchar(c)).unwrap_or(self.rest.len());
        if end == 0 {
            return None;
        }
        let (token, rest) = self.rest.split_at(end);
        self.rest = rest;
        Some(token)
    }

    /// A quoted string (with `\` escapes) or a bare token.
    fn value(&mut self) -> String {
        if let Some(quoted) = self.rest.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, escaped)) = chars.next() {
                            value.push(escaped);
                        }
                    }
                    '"' => {
                        self.rest = &quoted[i + 1..];
                        return value;
                    }
                    _ => value.push(c),
                }
            }
            self.rest = "";
            return value;
        }
        let end = self.rest.find([',', ' ', '\t']).unwrap_or(self.rest.len());
        let (value, rest) = self.rest.split_at(end);
        self.rest = rest;
        value.to_string()
    }
}

fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~/".contains(c)
}

/// The credentials being checked.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Credentials {
    pub registry: String,
    pub username: String,
    pub access_token: String,
}

impl Credentials {
    /// base64 of `user:token`: the HTTP Basic credential and the `auth` value of config.json.
    pub fn basic(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", self.username, self.access_token))
    }

    fn rejected(&self) -> TaskError {
        TaskError::other(format!("MSR rejected the credentials of {} at {}", self.username, self.registry))
    }

    fn v2_url(&self) -> String {
        format!("https://{}/v2/", self.registry)
    }
}

/// Where in the sequence a request belongs; the shim hands it back with the
/// answer. (Externally tagged: an internally tagged enum costs the wasm a
/// buffering deserializer.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Stage {
    /// `GET /v2/` without credentials, to learn the challenge.
    Probe,
    /// `GET /v2/` with Basic credentials.
    Basic,
    /// The token service asked for a token with Basic credentials.
    #[serde(rename_all = "camelCase")]
    Token { realm: String },
    /// `GET /v2/` with the token the service issued.
    #[serde(rename_all = "camelCase")]
    Bearer { realm: String },
}

/// How long the shim waits for each answer: the proxy's to the tunnel
/// request, then the server's, before the check fails.
pub const TIMEOUT_SECONDS: u32 = 30;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpRequest {
    pub stage: Stage,
    /// For the proxy's answer to CONNECT (when there is a proxy) and for the server's.
    pub timeout_seconds: u32,
    pub method: String,
    pub url: String,
    pub headers: BTreeMap<String, String>,
    /// What the log may say about this request (no credentials in it).
    pub description: String,
}

/// What came back: a response, or the reason there was none.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    pub status: Option<u16>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub body: String,
    /// Node's error code (`ECONNREFUSED`, `SELF_SIGNED_CERT_IN_CHAIN`) when no response came.
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Next {
    /// Make this request, after registering `secrets` with the agent.
    #[serde(rename_all = "camelCase")]
    Request { request: HttpRequest, secrets: Vec<String> },
    /// The registry accepted the credentials (`how` says by which scheme).
    #[serde(rename_all = "camelCase")]
    Verified { how: String, warning: Option<String> },
}

pub fn first_request(credentials: &Credentials) -> HttpRequest {
    HttpRequest {
        stage: Stage::Probe,
        method: "GET".into(),
        timeout_seconds: TIMEOUT_SECONDS,
        url: credentials.v2_url(),
        headers: BTreeMap::new(),
        description: format!("GET {}", credentials.v2_url()),
    }
}

/// Decides what follows the answer to the request of `stage`.
pub fn next(credentials: &Credentials, stage: &Stage, outcome: &Outcome) -> Result<Next> {
    let target = match stage {
        Stage::Token { realm } => realm.clone(),
        _ => credentials.v2_url(),
    };
    let Some(status) = outcome.status else {
        return Err(unreachable(stage, &target, credentials, outcome));
    };
    match (stage, status) {
        (Stage::Probe, 200..=299) => Ok(Next::Verified {
            how: "no credentials required".into(),
            warning: Some(format!(
                "{} answers /v2/ without credentials, so the token of {} could not be checked.",
                credentials.registry, credentials.username
            )),
        }),
        (Stage::Probe, 401) => challenge_request(credentials, outcome),
        (Stage::Basic, 200..=299) => Ok(Next::Verified { how: "HTTP Basic".into(), warning: None }),
        (Stage::Bearer { realm }, 200..=299) => {
            Ok(Next::Verified { how: format!("bearer token from {realm}"), warning: None })
        }
        (Stage::Token { realm }, 200..=299) => bearer_request(credentials, realm, &outcome.body),
        (_, 401 | 403) => Err(credentials.rejected()),
        (_, status) => Err(TaskError::other(format!(
            "{} answered HTTP {status} to GET {target}{}",
            if matches!(stage, Stage::Token { .. }) { "The token service" } else { "MSR" },
            match status {
                404 if !matches!(stage, Stage::Token { .. }) => " (is it a registry? /v2/ is the Docker registry API)",
                300..=399 => " (a redirect; give the registry's final host)",
                _ => "",
            }
        ))),
    }
}

fn unreachable(stage: &Stage, target: &str, credentials: &Credentials, outcome: &Outcome) -> TaskError {
    let code = outcome.error_code.as_deref().unwrap_or("");
    let reason = outcome.error_message.as_deref().unwrap_or("no answer").trim();
    let what = match stage {
        Stage::Token { .. } => "the token service of ".to_string() + &credentials.registry,
        _ => format!("MSR at {}", credentials.registry),
    };
    // OpenSSL's answer to a reply that is not TLS at all (plain HTTP on the port).
    if code == "ERR_SSL_WRONG_VERSION_NUMBER" || reason.contains("wrong version number") {
        return TaskError::other(format!("Could not reach {what}: it does not speak HTTPS on this port ({target})"));
    }
    if code == "ERR_TLS_CERT_ALTNAME_INVALID" {
        let host = split_port(authority(target)).map_or("", |(host, _)| host);
        return TaskError::other(format!("Could not reach {what}: its certificate is not for {host} ({reason})"));
    }
    if is_certificate_error(code) {
        TaskError::other(format!(
            "Could not reach {what}: its TLS certificate was not accepted ({reason}); \
             trust its CA on the agent (for example with NODE_EXTRA_CA_CERTS)"
        ))
    } else if code == "EPROTO" || code.starts_with("ERR_SSL") || code.starts_with("ERR_TLS") {
        TaskError::other(format!("Could not reach {what} ({target}): the TLS handshake failed ({reason})"))
    } else {
        TaskError::other(format!("Could not reach {what} ({target}): {reason}"))
    }
}

/// The `host[:port]` of an `https://` URL.
fn authority(url: &str) -> &str {
    let rest = strip_prefix_ignore_case(url, "https://").unwrap_or(url);
    &rest[..rest.find(['/', '?']).unwrap_or(rest.len())]
}

/// Node's error codes for a certificate the agent does not trust.
fn is_certificate_error(code: &str) -> bool {
    code.contains("CERT")
        || matches!(code, "UNABLE_TO_VERIFY_LEAF_SIGNATURE" | "UNABLE_TO_GET_ISSUER_CERT" | "UNABLE_TO_GET_ISSUER_CERT_LOCALLY")
}

fn header<'a>(outcome: &'a Outcome, name: &str) -> Option<&'a str> {
    outcome.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

fn challenge_request(credentials: &Credentials, outcome: &Outcome) -> Result<Next> {
    let challenges = parse_challenges(header(outcome, "www-authenticate").unwrap_or(""));
    let find = |scheme: &str| challenges.iter().find(|c| c.scheme.eq_ignore_ascii_case(scheme));
    if let Some(bearer) = find("bearer").filter(|c| c.params.contains_key("realm")) {
        return token_request(credentials, bearer);
    }
    if find("basic").is_some() {
        let mut headers = BTreeMap::new();
        headers.insert("Authorization".into(), format!("Basic {}", credentials.basic()));
        return Ok(Next::Request {
            request: HttpRequest {
                stage: Stage::Basic,
                method: "GET".into(),
                timeout_seconds: TIMEOUT_SECONDS,
                url: credentials.v2_url(),
                headers,
                description: format!("GET {} with the credentials of {}", credentials.v2_url(), credentials.username),
            },
            secrets: Vec::new(),
        });
    }
    Err(TaskError::other(format!(
        "MSR at {} asked for credentials without a Basic or Bearer challenge the task understands (WWW-Authenticate: \"{}\")",
        credentials.registry,
        header(outcome, "www-authenticate").unwrap_or("")
    )))
}

fn token_request(credentials: &Credentials, bearer: &Challenge) -> Result<Next> {
    let realm = bearer.params["realm"].trim();
    // Basic credentials go only to an HTTPS service that is a plain URL.
    if strip_prefix_ignore_case(realm, "https://").is_none() {
        return Err(TaskError::other(format!(
            "MSR at {} sent its token service as \"{realm}\", which is not an HTTPS address; the task does not send credentials there",
            credentials.registry
        )));
    }
    if !valid_realm(realm) {
        return Err(TaskError::other(format!(
            "MSR at {} sent an invalid token service address \"{realm}\" (expected https://host[:port]/path); the task does not send credentials there",
            credentials.registry
        )));
    }
    let mut query = Vec::new();
    for name in ["service", "scope"] {
        if let Some(value) = bearer.params.get(name) {
            query.push(format!("{name}={}", percent_encode(value)));
        }
    }
    query.push(format!("account={}", percent_encode(&credentials.username)));
    let separator = if realm.contains('?') { '&' } else { '?' };
    let url = format!("{realm}{separator}{}", query.join("&"));
    let mut headers = BTreeMap::new();
    headers.insert("Authorization".into(), format!("Basic {}", credentials.basic()));
    Ok(Next::Request {
        request: HttpRequest {
            stage: Stage::Token { realm: realm.to_string() },
            method: "GET".into(),
            timeout_seconds: TIMEOUT_SECONDS,
            description: format!("GET {url} with the credentials of {}", credentials.username),
            url,
            headers,
        },
        secrets: Vec::new(),
    })
}

/// An `https://` realm: after the scheme, a valid host, an optional port 1-65535, no user
/// info, then an optional path and query without spaces, controls or `#`.
fn valid_realm(realm: &str) -> bool {
    let authority = authority(realm);
    let tail = &realm["https://".len() + authority.len()..];
    let host_ok = split_port(authority).is_some_and(|(host, port)| valid_host(host) && port.is_none_or(valid_port));
    host_ok && !tail.chars().any(|c| c.is_whitespace() || c.is_control() || c == '#')
}

fn valid_port(port: &str) -> bool {
    !port.starts_with('0') && matches!(port.parse::<u32>(), Ok(1..=65535))
}

fn bearer_request(credentials: &Credentials, realm: &str, body: &str) -> Result<Next> {
    // `token`, or OAuth2's `access_token` (the token protocol allows either).
    let answer: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let field = |name: &str| answer.get(name).and_then(serde_json::Value::as_str).filter(|t| !t.is_empty());
    let token = field("token")
        .or_else(|| field("access_token"))
        .filter(|t| t.chars().all(|c| c.is_ascii_graphic()))
        .map(str::to_string);
    let Some(token) = token else {
        return Err(TaskError::other(format!(
            "The token service {realm} of MSR at {} answered without a usable token (expected JSON with a \"token\" field)",
            credentials.registry
        )));
    };
    let mut headers = BTreeMap::new();
    headers.insert("Authorization".into(), format!("Bearer {token}"));
    Ok(Next::Request {
        request: HttpRequest {
            stage: Stage::Bearer { realm: realm.to_string() },
            method: "GET".into(),
            timeout_seconds: TIMEOUT_SECONDS,
            url: credentials.v2_url(),
            headers,
            description: format!("GET {} with the token issued by {realm}", credentials.v2_url()),
        },
        secrets: vec![token],
    })
}

/// RFC 3986 unreserved characters stay; everything else is `%XX`.
fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn normalises_hosts() {
        for (typed, expected) in [
            ("msr.example.com", "msr.example.com"),
            (" https://MSR.Example.com:8443/ ", "msr.example.com:8443"),
            ("HTTPS://msr.example.com", "msr.example.com"),
            ("127.0.0.1:5000", "127.0.0.1:5000"),
            ("[::1]:5000", "[::1]:5000"),
            ("localhost", "localhost"),
        ] {
            assert_eq!(normalise_registry("registry", typed).unwrap(), expected, "{typed}");
        }
    }

    #[test]
    fn rejects_paths_schemes_and_bad_hosts() {
        for (typed, problem) in [
            ("msr.example.com/web/app", "has a path"),
            ("https://msr.example.com/v2/", "has a path"),
            ("http://msr.example.com", "not an HTTPS address"),
            ("ftp://msr.example.com", "not an HTTPS address"),
            ("user:pw@msr.example.com", "contains credentials"),
            ("msr.example.com:0", "invalid port"),
            ("msr.example.com:99999", "invalid port"),
            ("msr.example.com:", "invalid port"),
            ("msr example.com", "not a valid host"),
            ("-msr.example.com", "not a valid host"),
            ("msr..example.com", "not a valid host"),
            ("https://", "not a valid host"),
            ("", "a value is required"),
        ] {
            let error = normalise_registry("registry", typed).unwrap_err().to_string();
            assert!(error.starts_with("Input 'registry': "), "{error}");
            assert!(error.contains(problem), "{typed}: {error}");
        }
    }

    #[test]
    fn credentials_in_the_value_are_never_quoted() {
        for typed in ["https://robot:s3cr3t-token@msr.example.com/x", "http://u:s3cr3t-token@msr.example.com", "u:s3cr3t-token@msr.example.com/web"] {
            let error = normalise_registry("registry", typed).unwrap_err().to_string();
            assert!(error.contains("contains credentials"), "{error}");
            assert!(!error.contains("s3cr3t-token"), "{error}");
        }
    }

    #[test]
    fn parses_registry_challenges() {
        let parsed = parse_challenges(
            r#"Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:web/app:pull,push""#,
        );
        assert_eq!(
            parsed,
            vec![Challenge {
                scheme: "Bearer".into(),
                params: params(&[
                    ("realm", "https://auth.example.com/token"),
                    ("service", "registry.example.com"),
                    ("scope", "repository:web/app:pull,push"),
                ]),
            }]
        );
        assert_eq!(
            parse_challenges(r#"Basic realm="Registry Realm""#),
            vec![Challenge { scheme: "Basic".into(), params: params(&[("realm", "Registry Realm")]) }]
        );
    }

    #[test]
    fn parses_several_challenges_and_odd_spacing() {
        let parsed = parse_challenges(
            r#"Negotiate, Basic realm=simple , Bearer  REALM = "https://a/t?x=1" ,service="a \"q\" b", NTLM abc==, Basic realm="second""#,
        );
        let schemes: Vec<_> = parsed.iter().map(|c| c.scheme.as_str()).collect();
        assert_eq!(schemes, ["Negotiate", "Basic", "Bearer", "NTLM", "Basic"]);
        assert_eq!(parsed[1].params, params(&[("realm", "simple")]));
        assert_eq!(parsed[2].params, params(&[("realm", "https://a/t?x=1"), ("service", "a \"q\" b")]));
        assert_eq!(parsed[4].params, params(&[("realm", "second")]));
    }

    #[test]
    fn garbage_headers_yield_no_usable_challenge() {
        for header in ["", ",,,", "\"", "=x", "Bearer realm=\"unterminated", "(){}"] {
            let parsed = parse_challenges(header);
            assert!(parsed.iter().all(|c| c.scheme != "Bearer" || c.params.get("realm").is_none_or(|r| !r.starts_with("https://"))), "{header:?} {parsed:?}");
        }
    }

    proptest! {
        #[test]
        fn parser_never_panics(header in "\\PC{0,80}") {
            parse_challenges(&header);
        }

        #[test]
        fn quoted_values_round_trip(realm in "[ -~]{0,40}", service in "[a-z0-9.:-]{1,20}") {
            let quoted = realm.replace('\\', "\\\\").replace('"', "\\\"");
            let parsed = parse_challenges(&format!("Bearer realm=\"{quoted}\",service={service}, Basic realm=x"));
            prop_assert_eq!(parsed.len(), 2);
            prop_assert_eq!(&parsed[0].params["realm"], &realm);
            prop_assert_eq!(&parsed[0].params["service"], &service);
        }

        #[test]
        fn normalised_hosts_are_stable(host in "[a-z0-9]{1,10}(\\.[a-z0-9]{1,10}){0,3}", port in proptest::option::of(1u16..)) {
            let typed = match port { Some(p) => format!("https://{host}:{p}/"), None => host.clone() };
            let once = normalise_registry("registry", &typed).unwrap();
            prop_assert_eq!(normalise_registry("registry", &once).unwrap(), once.clone());
            prop_assert!(!once.contains('/'));
        }
    }

    fn creds() -> Credentials {
        Credentials { registry: "msr.example.com".into(), username: "robot$web+ci".into(), access_token: "s3cret".into() }
    }

    fn answer(status: u16, headers: &[(&str, &str)], body: &str) -> Outcome {
        Outcome {
            status: Some(status),
            headers: params(headers),
            body: body.into(),
            error_code: None,
            error_message: None,
        }
    }

    fn request(next: Next) -> (HttpRequest, Vec<String>) {
        match next {
            Next::Request { request, secrets } => (request, secrets),
            other => panic!("expected a request, got {other:?}"),
        }
    }

    #[test]
    fn basic_challenge_retries_with_basic_credentials() {
        let c = creds();
        let probe = first_request(&c);
        assert_eq!(probe.url, "https://msr.example.com/v2/");
        assert_eq!(probe.timeout_seconds, 30);
        assert!(probe.headers.is_empty());
        let (retry, _) = request(next(&c, &probe.stage, &answer(401, &[("WWW-Authenticate", "Basic realm=\"r\"")], "")).unwrap());
        assert_eq!(retry.stage, Stage::Basic);
        assert_eq!(retry.headers["Authorization"], format!("Basic {}", c.basic()));
        assert!(!retry.description.contains(&c.basic()));
        assert_eq!(
            next(&c, &Stage::Basic, &answer(200, &[], "{}")).unwrap(),
            Next::Verified { how: "HTTP Basic".into(), warning: None }
        );
        for status in [401, 403] {
            assert_eq!(
                next(&c, &Stage::Basic, &answer(status, &[], "")).unwrap_err().to_string(),
                "MSR rejected the credentials of robot$web+ci at msr.example.com"
            );
        }
    }

    #[test]
    fn bearer_challenge_follows_the_token_protocol() {
        let c = creds();
        let challenge = r#"Bearer realm="https://auth.example.com/token?x=1",service="msr.example.com""#;
        let (token, _) = request(next(&c, &Stage::Probe, &answer(401, &[("www-authenticate", challenge)], "")).unwrap());
        assert_eq!(token.url, "https://auth.example.com/token?x=1&service=msr.example.com&account=robot%24web%2Bci");
        assert_eq!(token.headers["Authorization"], format!("Basic {}", c.basic()));
        assert_eq!(token.timeout_seconds, TIMEOUT_SECONDS);
        let (bearer, secrets) = request(next(&c, &token.stage, &answer(200, &[], r#"{"token":"abc.def.ghi"}"#)).unwrap());
        assert_eq!(bearer.timeout_seconds, TIMEOUT_SECONDS);
        assert_eq!(secrets, ["abc.def.ghi"]);
        assert_eq!(bearer.headers["Authorization"], "Bearer abc.def.ghi");
        assert_eq!(bearer.url, "https://msr.example.com/v2/");
        assert!(!bearer.description.contains("abc.def.ghi"));
        let (_, secrets) = request(next(&c, &token.stage, &answer(200, &[], r#"{"access_token":"xyz"}"#)).unwrap());
        assert_eq!(secrets, ["xyz"]);
        assert!(matches!(next(&c, &bearer.stage, &answer(200, &[], "")).unwrap(), Next::Verified { .. }));
        assert_eq!(
            next(&c, &token.stage, &answer(403, &[], "denied")).unwrap_err().to_string(),
            "MSR rejected the credentials of robot$web+ci at msr.example.com"
        );
    }

    #[test]
    fn bearer_is_preferred_and_needs_an_https_realm() {
        let c = creds();
        let both = r#"Basic realm="x", Bearer realm="https://a.example.com/t",service=s"#;
        let (token, _) = request(next(&c, &Stage::Probe, &answer(401, &[("WWW-Authenticate", both)], "")).unwrap());
        assert!(matches!(token.stage, Stage::Token { .. }));
        for realm in ["http://a.example.com/t", "https:///t", "javascript:x", ""] {
            let header = format!("Bearer realm=\"{realm}\"");
            let error = next(&c, &Stage::Probe, &answer(401, &[("WWW-Authenticate", &header)], "")).unwrap_err();
            let error = error.to_string();
            assert!(
                ["not an HTTPS address", "invalid token service address", "without a Basic or Bearer"].iter().any(|m| error.contains(m)),
                "{error}"
            );
        }
    }

    #[test]
    fn a_malformed_token_service_address_is_refused_naming_the_registry() {
        let c = creds();
        let probe = |realm: &str| next(&c, &Stage::Probe, &answer(401, &[("WWW-Authenticate", &format!("Bearer realm=\"{realm}\",service=s"))], ""));
        for realm in [
            "https://auth.example.com:abc/token",
            "https://auth.example.com:/token",
            "https://auth.example.com:0/token",
            "https://auth.example.com:65536/token",
            "https://auth.example.com:443:1/token",
            "https://user:pw@auth.example.com/token",
            "https://auth..example.com/token",
            "https://auth_example.com/token",
            "https://[zz]/token",
            "https://[::1/token",
            "https://auth.example.com/to ken",
            "https://auth.example.com/token#x",
            "https://?x=1",
        ] {
            let error = probe(realm).unwrap_err().to_string();
            assert!(error.starts_with("MSR at msr.example.com sent an invalid token service address"), "{realm}: {error}");
        }
        for realm in [
            "https://auth.example.com:8443/token",
            "https://AUTH.example.com/token?x=1",
            "https://127.0.0.1:5001/token",
            "https://[::1]:5001/token",
            "https://auth.example.com",
            "https://auth.example.com?x=1",
        ] {
            let (token, _) = request(probe(realm).unwrap());
            assert!(token.url.starts_with(realm), "{realm}: {}", token.url);
        }
    }

    #[test]
    fn garbage_from_the_token_service_is_an_error_that_names_it() {
        let c = creds();
        let stage = Stage::Token { realm: "https://a.example.com/t".into() };
        for body in ["<html>oops</html>", "{}", r#"{"token":""}"#, r#"{"token":"a b"}"#, r#"{"token":"x\r\nInjected: 1"}"#] {
            let error = next(&c, &stage, &answer(200, &[], body)).unwrap_err().to_string();
            assert!(error.contains("https://a.example.com/t") && error.contains("without a usable token"), "{error}");
        }
    }

    #[test]
    fn unreachable_and_tls_failures_give_the_reason() {
        let c = creds();
        let failed = |code: &str, message: &str| Outcome {
            status: None,
            headers: BTreeMap::new(),
            body: String::new(),
            error_code: Some(code.into()),
            error_message: Some(message.into()),
        };
        let refused = next(&c, &Stage::Probe, &failed("ECONNREFUSED", "connect ECONNREFUSED 10.0.0.1:443")).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "Could not reach MSR at msr.example.com (https://msr.example.com/v2/): connect ECONNREFUSED 10.0.0.1:443"
        );
        let tls = next(&c, &Stage::Probe, &failed("SELF_SIGNED_CERT_IN_CHAIN", "self-signed certificate in certificate chain"))
            .unwrap_err()
            .to_string();
        assert!(tls.contains("TLS certificate was not accepted (self-signed certificate in certificate chain)"), "{tls}");
        assert!(tls.contains("NODE_EXTRA_CA_CERTS"));
        let plain = "write EPROTO 800C:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:ssl3_record.c:350:";
        let http = next(&c, &Stage::Probe, &failed("EPROTO", plain)).unwrap_err().to_string();
        assert_eq!(http, "Could not reach MSR at msr.example.com: it does not speak HTTPS on this port (https://msr.example.com/v2/)");
        let altname = "Hostname/IP does not match certificate's altnames: Host: msr.example.com. is not in the cert's altnames: DNS:other";
        let wrong = next(&c, &Stage::Probe, &failed("ERR_TLS_CERT_ALTNAME_INVALID", altname)).unwrap_err().to_string();
        assert!(wrong.starts_with("Could not reach MSR at msr.example.com: its certificate is not for msr.example.com ("), "{wrong}");
        assert!(!wrong.contains("NODE_EXTRA_CA_CERTS"), "{wrong}");
        let realm = Stage::Token { realm: "https://auth.example.com:8443/token".into() };
        let wrong = next(&c, &realm, &failed("ERR_TLS_CERT_ALTNAME_INVALID", altname)).unwrap_err().to_string();
        assert!(wrong.starts_with("Could not reach the token service of msr.example.com: its certificate is not for auth.example.com ("), "{wrong}");
        let handshake = next(&c, &Stage::Probe, &failed("EPROTO", "sslv3 alert handshake failure")).unwrap_err().to_string();
        assert!(handshake.contains("the TLS handshake failed (sslv3 alert handshake failure)") && !handshake.contains("NODE_EXTRA"), "{handshake}");
    }

    #[test]
    fn other_answers_are_errors_with_the_status() {
        let c = creds();
        let error = next(&c, &Stage::Probe, &answer(404, &[], "")).unwrap_err().to_string();
        assert_eq!(error, "MSR answered HTTP 404 to GET https://msr.example.com/v2/ (is it a registry? /v2/ is the Docker registry API)");
        let error = next(&c, &Stage::Probe, &answer(401, &[], "")).unwrap_err().to_string();
        assert!(error.contains("without a Basic or Bearer challenge"), "{error}");
        let open = next(&c, &Stage::Probe, &answer(200, &[], "{}")).unwrap();
        assert!(matches!(open, Next::Verified { warning: Some(_), .. }));
    }
}
