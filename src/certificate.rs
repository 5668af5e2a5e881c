//! The validity of a bundle's client certificate: PEM decoding and a strict
//! DER reader for the path Certificate → TBSCertificate → Validity (RFC 5280
//! §4.1). Only that path is needed, and a general X.509 crate tripled the
//! size this adds to the .wasm.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validity {
    pub not_after_epoch_seconds: i64,
    /// RFC 3339, UTC.
    pub not_after: String,
}

/// Expiry of the first certificate in a PEM file (a chain starts with the leaf).
pub fn validity(pem: &[u8]) -> Result<Validity, String> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let text = std::str::from_utf8(pem).map_err(|_| "is not a PEM text file".to_string())?;
    let start = text.find(BEGIN).ok_or("holds no PEM certificate")? + BEGIN.len();
    let end = text[start..].find(END).ok_or("has an unterminated PEM certificate")? + start;
    let body: String = text[start..end].split_whitespace().collect();
    let der = base64_decode(&body).ok_or("is not valid PEM (bad base64)")?;
    not_after(&der).ok_or_else(|| "is not a valid X.509 certificate".to_string())
}

/// Standard base64, padded or not, as PEM bodies and kubeconfig `*-data` hold
/// it. By hand: the base64 crate's decoder costs 3 KB of the bundle's wasm.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let body = text.strip_suffix("==").or_else(|| text.strip_suffix('=')).unwrap_or(text);
    if body.len() % 4 == 1 || text.len() != body.len() && !text.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() / 4 * 3 + 2);
    let (mut bits, mut count) = (0u32, 0);
    for byte in body.bytes() {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        bits = bits << 6 | u32::from(value);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    Some(out)
}

/// One DER element: (tag, contents, what follows). Definite lengths only, as DER requires.
fn element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let length = if first < 0x80 {
        first as usize
    } else {
        let count = (first & 0x7f) as usize;
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let length = rest[..count].iter().fold(0usize, |n, &b| (n << 8) | b as usize);
        rest = &rest[count..];
        length
    };
    (rest.len() >= length).then(|| (tag, &rest[..length], &rest[length..]))
}

fn expect(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    element(input).filter(|(t, _, _)| *t == tag).map(|(_, contents, rest)| (contents, rest))
}

const SEQUENCE: u8 = 0x30;

fn not_after(der: &[u8]) -> Option<Validity> {
    let (certificate, _) = expect(der, SEQUENCE)?;
    let (tbs, _) = expect(certificate, SEQUENCE)?;
    // [0] EXPLICIT version, optional.
    let tbs = expect(tbs, 0xa0).map_or(tbs, |(_, rest)| rest);
    let (_serial, rest) = expect(tbs, 0x02)?;
    let (_signature, rest) = expect(rest, SEQUENCE)?;
    let (_issuer, rest) = expect(rest, SEQUENCE)?;
    let (validity, _) = expect(rest, SEQUENCE)?;
    let (_, _not_before, rest) = element(validity)?;
    let (tag, time, _) = element(rest)?;
    // ASCII only: the fields below are sliced by byte offsets.
    let time = std::str::from_utf8(time).ok().filter(|t| t.is_ascii())?;
    // UTCTime YYMMDDHHMMSSZ (years 1950–2049), GeneralizedTime YYYYMMDDHHMMSSZ.
    let (year, rest) = match tag {
        0x17 if time.len() == 13 => {
            let yy: i64 = digits(&time[..2])?;
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, &time[2..])
        }
        0x18 if time.len() == 15 => (digits(&time[..4])?, &time[4..]),
        _ => return None,
    };
    if !rest.ends_with('Z') {
        return None;
    }
    let [month, day, hour, minute, second] = [0, 2, 4, 6, 8].map(|i| digits(&rest[i..i + 2]));
    let (month, day, hour, minute, second) = (month?, day?, hour?, minute?, second?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    Some(Validity {
        not_after_epoch_seconds: days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second,
        not_after: format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z"),
    })
}

fn digits(text: &str) -> Option<i64> {
    text.bytes().all(|b| b.is_ascii_digit()).then(|| text.parse().ok()).flatten()
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146097 + day_of_era - 719468
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    // openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=t -days 1
    pub(crate) const CERT: &str = "-----BEGIN CERTIFICATE-----
MIIBbTCCAROgAwIBAgIUMgM3cxqagmufx0Cmp86Gy332UqgwCgYIKoZIzj0EAwIw
DDEKMAgGA1UEAwwBdDAeFw0yNjEyMDMxOTQ1MDFaFw0yNjEyMDQxOTQ1MDFaMAwx
CjAIBgNVBAMMAXQwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAASuDqbdjmxuPZFi
k1aHEIr3XIJvZ8lHGG/P0+mND6Mtn4/pty8E8LJXbLFdLAGW9Ca1o2u0NDGIRbpU
NXf6H/6Eo1MwUTAdBgNVHQ4EFgQUz8hw9Nzef3sXetT9EHWEnZvQx6QwHwYDVR0j
BBgwFoAUz8hw9Nzef3sXetT9EHWEnZvQx6QwDwYDVR0TAQH/BAUwAwEB/zAKBggq
hkjOPQQDAgNIADBFAiArL8zDQGnCT+tpu+5roVpDyGo9KdrzRLyPo7LCWLUAVAIh
AIkwI+WuE5hfAr8Q7C3JQGnigQEGutZaMf4n4dFVPsjU
-----END CERTIFICATE-----
";

    /// A minimal certificate whose validity holds `time` (tagged `tag`) twice.
    fn with_not_after(tag: u8, time: &[u8]) -> Vec<u8> {
        let time = [&[tag, time.len() as u8][..], time].concat();
        let validity = [&[SEQUENCE, (2 * time.len()) as u8][..], &time, &time].concat();
        let tbs = [&[0x02, 1, 1, SEQUENCE, 0, SEQUENCE, 0][..], &validity].concat();
        let tbs = [&[SEQUENCE, tbs.len() as u8][..], &tbs].concat();
        [&[SEQUENCE, tbs.len() as u8][..], &tbs].concat()
    }

    #[test]
    fn reads_not_after_from_lf_crlf_and_chains() {
        let expected = Validity { not_after_epoch_seconds: 1796413501, not_after: "2026-12-04T19:45:01Z".into() };
        assert_eq!(validity(CERT.as_bytes()).unwrap(), expected);
        assert_eq!(validity(CERT.replace('\n', "\r\n").as_bytes()).unwrap(), expected);
        assert_eq!(validity(format!("{CERT}{CERT}").as_bytes()).unwrap(), expected);
    }

    #[test]
    fn reads_both_time_forms() {
        // notAfter 2050-01-01T00:00:00Z must be a GeneralizedTime (RFC 5280 §4.1.2.5).
        let validity_of = |tag: u8, time: &str| not_after(&with_not_after(tag, time.as_bytes()));
        assert_eq!(validity_of(0x18, "20500101000000Z").unwrap().not_after_epoch_seconds, 2524608000);
        assert_eq!(validity_of(0x17, "491231235959Z").unwrap().not_after, "2049-12-31T23:59:59Z");
        assert_eq!(validity_of(0x17, "700101000000Z").unwrap().not_after_epoch_seconds, 0);
        assert_eq!(validity_of(0x17, "700101000000"), None);
        assert_eq!(validity_of(0x17, "701301000000Z"), None);
        assert_eq!(validity_of(0x04, "700101000000Z"), None);
    }

    #[test]
    fn a_time_with_a_multibyte_character_is_refused_not_a_panic() {
        // 13 bytes, so the length check passed, but slicing at byte 2 split the 'é' (a panic aborts the wasm).
        assert_eq!(not_after(&with_not_after(0x17, "1\u{e9}010100000Z".as_bytes())), None);
    }

    #[test]
    fn refuses_what_is_not_a_certificate() {
        assert_eq!(validity(b"hello").unwrap_err(), "holds no PEM certificate");
        assert_eq!(
            validity(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").unwrap_err(),
            "is not a valid X.509 certificate"
        );
        assert_eq!(validity(b"-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n").unwrap_err(), "is not valid PEM (bad base64)");
        assert!(validity(&[0xff, 0xfe]).is_err());
    }

    proptest! {
        #[test]
        fn never_panics_on_any_der(der in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = not_after(&der);
        }

        #[test]
        fn never_panics_on_any_time_text(
            tag in prop_oneof![Just(0x17u8), Just(0x18)],
            time in "[0-9Z\u{e9}\u{20ac}]{9,15}".prop_filter("the lengths of the two time forms", |t| [13, 15].contains(&t.len())),
        ) {
            if let Some(validity) = not_after(&with_not_after(tag, time.as_bytes())) {
                prop_assert_eq!(validity.not_after.len(), 20);
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn base64_decodes_as_the_base64_crate(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..64), cut in 0usize..4) {
            use base64::Engine;
            let encoded = base64::engine::general_purpose::STANDARD.encode(&bytes);
            proptest::prop_assert_eq!(base64_decode(&encoded), Some(bytes.clone()));
            proptest::prop_assert_eq!(base64_decode(encoded.trim_end_matches('=')), Some(bytes));
            let damaged = format!("{}{}", &encoded[..encoded.len().saturating_sub(cut)], "!");
            proptest::prop_assert_eq!(base64_decode(&damaged), None);
        }
    }
}
