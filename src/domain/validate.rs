//! Input rules shared by the REST API and the console: tenants, URLs, secrets, descriptions.

/// Longest accepted webhook URL.
pub const MAX_URL_LEN: usize = 2048;
/// Shortest accepted custom secret.
pub const MIN_SECRET_LEN: usize = 24;
/// Longest accepted custom secret.
pub const MAX_SECRET_LEN: usize = 256;
/// Longest accepted description.
pub const MAX_DESCRIPTION_LEN: usize = 1000;

/// A tenant is 1 to 64 characters: letters, digits, `.`, `_`, `-`, starting with a letter or digit.
pub fn tenant(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err("a tenant is 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit".into())
    }
}

/// Checks a webhook URL's form: absolute, `https://` (or `http://` when allowed), with a host.
/// Whether its address may be reached is decided by the SSRF guard, on the server.
pub fn webhook_url(raw: &str, allow_http: bool) -> Result<url::Url, String> {
    if raw.len() > MAX_URL_LEN {
        return Err(format!("the URL is longer than {MAX_URL_LEN} characters"));
    }
    let url = url::Url::parse(raw).map_err(|e| format!("not an absolute URL ({e})"))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_http => {}
        "http" => return Err("the URL must use https:// (plain http:// is not allowed on this server)".into()),
        other => return Err(format!("the URL must use https://, not {other}://")),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the URL has no host".into());
    }
    Ok(url)
}

/// A custom secret: 24 to 256 printable ASCII characters without spaces, not starting with `enc:`
/// (the mark of a secret sealed at rest: such a secret would be read back as a sealed one).
pub fn custom_secret(secret: &str) -> Result<(), String> {
    if secret.starts_with("enc:") {
        return Err("a custom secret may not start with 'enc:'".into());
    }
    if secret.len() < MIN_SECRET_LEN {
        return Err(format!("a custom secret needs at least {MIN_SECRET_LEN} characters"));
    }
    if secret.len() > MAX_SECRET_LEN {
        return Err(format!("a custom secret has at most {MAX_SECRET_LEN} characters"));
    }
    if !secret.chars().all(|c| c.is_ascii_graphic()) {
        return Err("a custom secret may only use printable ASCII characters without spaces".into());
    }
    Ok(())
}

/// A description of at most 1,000 characters.
pub fn description(text: &str) -> Result<(), String> {
    if text.chars().count() > MAX_DESCRIPTION_LEN {
        Err(format!("a description has at most {MAX_DESCRIPTION_LEN} characters"))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_absolute_https_unless_http_is_allowed() {
        assert!(webhook_url("https://example.com/hook", false).is_ok());
        assert!(webhook_url("http://example.com/hook", false).unwrap_err().contains("https"));
        assert!(webhook_url("http://example.com/hook", true).is_ok());
        assert!(webhook_url("ftp://example.com/", true).is_err());
        assert!(webhook_url("/relative", true).is_err());
        assert!(webhook_url("example.com", true).is_err());
    }

    #[test]
    fn tenants_and_secrets_follow_their_rules() {
        assert!(tenant("acme-corp_1.eu").is_ok());
        assert!(tenant("").is_err());
        assert!(tenant("-acme").is_err());
        assert!(tenant("acme corp").is_err());
        assert!(custom_secret("short").is_err());
        assert!(custom_secret("a-perfectly-fine-secret-1234").is_ok());
        assert!(custom_secret("has a space in it but is long enough").is_err());
        assert!(custom_secret("enc:v1:looks-like-a-sealed-secret-but-is-not").is_err());
    }
}
