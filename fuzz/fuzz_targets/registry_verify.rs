#![no_main]
//! The credentials check, driven through every stage by arbitrary answers:
//! NUL-separated responses, each `status line`, `WWW-Authenticate line`, body.
//! A status that is not a number stands for no response (a network error).
use libfuzzer_sys::fuzz_target;
use mke_tasks::registry_auth::{first_request, next, Credentials, Next, Outcome, Stage};
use std::collections::BTreeMap;

const TOKEN: &str = "s3cr3t-T0ken";

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let credentials = Credentials { registry: "msr.example.com".into(), username: "robot$ci".into(), access_token: TOKEN.into() };
    let basic = credentials.basic();
    // The task may quote what the registry sent (a realm, a header); only then can it contain the token.
    let echoed = text.contains(TOKEN) || text.contains(&basic);
    let mut request = first_request(&credentials);
    for (step, answer) in text.split('\0').enumerate() {
        assert!(step < 4, "more than probe, token, bearer and a last answer: {request:?}");
        let mut lines = answer.splitn(3, '\n');
        let status = lines.next().unwrap_or("").trim().parse::<u16>().ok();
        let challenge = lines.next().unwrap_or("");
        let outcome = Outcome {
            status,
            headers: BTreeMap::from([("WWW-Authenticate".to_string(), challenge.to_string())]),
            body: lines.next().unwrap_or("").to_string(),
            error_code: status.is_none().then(|| challenge.to_string()),
            error_message: status.is_none().then(|| "socket hang up".to_string()),
        };
        match next(&credentials, &request.stage, &outcome) {
            Ok(Next::Request { request: following, .. }) => {
                assert!(echoed || !following.description.contains(TOKEN) && !following.description.contains(&basic), "{following:?}");
                assert!(following.url.to_ascii_lowercase().starts_with("https://"), "{following:?}");
                match (&following.stage, following.headers.get("Authorization")) {
                    (Stage::Basic, Some(auth)) => {
                        assert_eq!(auth, &format!("Basic {basic}"));
                        assert_eq!(following.url, "https://msr.example.com/v2/");
                    }
                    (Stage::Token { realm }, Some(auth)) => {
                        assert_eq!(auth, &format!("Basic {basic}"));
                        assert!(following.url.starts_with(realm.as_str()));
                    }
                    (Stage::Bearer { .. }, Some(auth)) => {
                        assert!(auth.starts_with("Bearer "));
                        assert_eq!(following.url, "https://msr.example.com/v2/");
                    }
                    other => panic!("unexpected request {other:?}"),
                }
                request = following;
            }
            Ok(Next::Verified { .. }) => return,
            Err(error) => {
                assert!(echoed || !error.message().contains(TOKEN) && !error.message().contains(&basic), "{error}");
                return;
            }
        }
    }
});
