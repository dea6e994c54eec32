//! Who may talk to the server, and proof that a form came from its pages.
//!
//! * **Token.** Bound to anything but a loopback address, every request
//!   must carry the server's token: in the shared URL (`?token=...`, then
//!   kept in an HttpOnly cookie and dropped from the address bar), in the
//!   cookie, as `Authorization: Bearer ...`, or as the password of basic
//!   auth (what Label Studio's ML backend settings send). Otherwise 401.
//! * **Host.** Without a token (loopback), the `Host` header must name the
//!   loopback address itself: a web page whose domain an attacker points at
//!   127.0.0.1 (DNS rebinding) is refused.
//! * **CSRF.** Every page sets a random `al_csrf` cookie (SameSite=Strict)
//!   once per browser and repeats it in a hidden field of each form; a POST
//!   whose field does not equal the cookie is refused (double submit).

use rand::RngCore;

/// The cookie holding the access token once the shared URL was opened.
pub const TOKEN_COOKIE: &str = "al_token";
/// The cookie holding the browser's CSRF secret.
pub const CSRF_COOKIE: &str = "al_csrf";
/// The cookie holding the annotator's name.
pub const ANNOTATOR_COOKIE: &str = "al_annotator";

/// A fresh random secret: 32 bytes from the operating system, as hex.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares secrets in time that does not depend on where they differ.
pub fn same_secret(given: &str, expected: &str) -> bool {
    let (a, b) = (given.as_bytes(), expected.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie<'h>(header: &'h str, name: &str) -> Option<&'h str> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// A `Set-Cookie` value: host-only, path `/`, SameSite=Strict; `http_only`
/// hides it from scripts.
pub fn set_cookie(name: &str, value: &str, http_only: bool) -> String {
    let mut text = format!("{name}={value}; Path=/; SameSite=Strict; Max-Age=31536000");
    if http_only {
        text.push_str("; HttpOnly");
    }
    text
}

/// The password of an `Authorization: Basic ...` value.
pub fn basic_password(authorization: &str) -> Option<String> {
    use base64::Engine as _;
    let encoded = authorization.strip_prefix("Basic ")?.trim();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    text.split_once(':')
        .map(|(_, password)| password.to_string())
}

/// Whether a `Host` header names a loopback address (with any port).
pub fn is_loopback_host(host: &str) -> bool {
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    matches!(name, "127.0.0.1" | "localhost" | "[::1]")
}

/// An annotator's name as given in the form: trimmed, 1 to 64 characters,
/// no control characters.
pub fn check_annotator(name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("give your name (it goes into each label's history)".into());
    }
    if name.chars().count() > 64 {
        return Err("a name of at most 64 characters, please".into());
    }
    if name.chars().any(char::is_control) {
        return Err("the name has control characters".into());
    }
    Ok(name.to_string())
}

/// A cookie value for any text (percent-encoded).
pub fn encode_cookie_value(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// The text of a percent-encoded cookie value.
pub fn decode_cookie_value(value: &str) -> String {
    form_urlencoded::parse(format!("v={value}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_name_survives_the_cookie(name in "\\PC{0,80}") {
            let value = encode_cookie_value(&name);
            prop_assert!(!value.contains(';') && !value.contains(' ') && !value.contains(','));
            prop_assert_eq!(decode_cookie_value(&value), name);
        }

        #[test]
        fn cookie_parsing_finds_the_value_set_whatever_surrounds_it(
            before in proptest::collection::vec(("[a-z_]{1,8}", "[a-zA-Z0-9%]{0,12}"), 0..4),
            value in "[a-f0-9]{0,64}",
        ) {
            let mut pairs: Vec<String> = before
                .iter()
                .filter(|(k, _)| k != CSRF_COOKIE)
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            pairs.push(format!("{CSRF_COOKIE}={value}"));
            let header = pairs.join("; ");
            prop_assert_eq!(cookie(&header, CSRF_COOKIE), Some(value.as_str()));
        }

        #[test]
        fn host_checks_never_panic_and_accept_only_loopback(host in "\\PC{0,40}") {
            let ok = is_loopback_host(&host);
            let name = host.rsplit_once(':').map_or(host.as_str(), |(n, p)| {
                if p.bytes().all(|b| b.is_ascii_digit()) { n } else { host.as_str() }
            });
            prop_assert_eq!(ok, ["127.0.0.1", "localhost", "[::1]"].contains(&name));
        }
    }

    #[test]
    fn secrets_compare_by_content() {
        let s = random_secret();
        assert_eq!(s.len(), 64);
        assert!(same_secret(&s, &s.clone()));
        assert!(!same_secret(&s[..63], &s));
        assert!(!same_secret(
            &format!("{}0", &s[..63]),
            &format!("{}1", &s[..63])
        ));
        assert_ne!(random_secret(), s);
    }

    #[test]
    fn cookies_are_found_by_exact_name() {
        let header = "al_csrf_x=1; al_csrf=abc; other=2";
        assert_eq!(cookie(header, "al_csrf"), Some("abc"));
        assert_eq!(cookie(header, "al_token"), None);
    }

    #[test]
    fn only_loopback_names_pass_the_host_check() {
        for ok in ["127.0.0.1:8765", "localhost:1", "[::1]:80", "localhost"] {
            assert!(is_loopback_host(ok), "{ok}");
        }
        for bad in [
            "evil.example:8765",
            "127.0.0.1.evil.example",
            "10.0.0.2:8765",
            "",
        ] {
            assert!(!is_loopback_host(bad), "{bad}");
        }
    }

    #[test]
    fn annotator_names_are_checked_and_survive_a_cookie() {
        assert_eq!(check_annotator("  Ana María "), Ok("Ana María".into()));
        assert!(check_annotator(" ").is_err());
        assert!(check_annotator("a\nb").is_err());
        assert!(check_annotator(&"x".repeat(65)).is_err());
        let name = "Zoë; <b>&=";
        assert_eq!(decode_cookie_value(&encode_cookie_value(name)), name);
        assert!(!encode_cookie_value(name).contains(';'));
    }
}
