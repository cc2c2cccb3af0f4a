//! Settings, read from the environment (the seed's `WEBHOOK_*` names) with defaults for everything.

use ipnet::IpNet;
use std::net::SocketAddr;
use std::time::Duration;

/// Everything the server can be told at start.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where to listen (`LEPTOS_SITE_ADDR`, else `Leptos.toml`, else 127.0.0.1:3001).
    pub addr: Option<SocketAddr>,
    /// `DATABASE_URL`: `sqlite://…` (created when missing).
    pub database_url: String,
    /// `WEBHOOK_ADMIN_TOKEN`: a bootstrap admin key, registered at start.
    pub admin_token: Option<String>,
    /// `WEBHOOK_ENCRYPTION_KEY`: seals webhook secrets at rest (at least 32 characters);
    /// `WEBHOOK_ENCRYPTION_KEY_PREVIOUS`: the key it replaces (secrets sealed with it are sealed
    /// again with the new one at start).
    pub sealer: Option<crate::crypto::Sealer>,
    /// `WEBHOOK_ALLOW_HTTP`: accept plain `http://` webhook URLs.
    pub allow_http: bool,
    /// `WEBHOOK_ALLOWED_SUBNETS`: private ranges receivers may still be reached at.
    pub allowed_subnets: Vec<IpNet>,
    /// `WEBHOOK_MAX_PAYLOAD`: largest accepted event `data`, in bytes.
    pub max_payload: usize,
    /// `WEBHOOK_MAX_RETRIES`: retries after the first try.
    pub max_retries: u32,
    /// `WEBHOOK_RETRY_DELAY`: first retry delay; doubles each time.
    pub retry_delay: Duration,
    /// `WEBHOOK_RETRY_SCHEDULE`: an explicit list of delays, e.g. `5s,5m,30m,2h,5h`.
    pub retry_schedule: Option<Vec<Duration>>,
    /// `WEBHOOK_TIMEOUT`: per-request timeout.
    pub timeout: Duration,
    /// `WEBHOOK_MAX_FAILURES`: consecutive failed attempts before a webhook is disabled.
    pub max_failures: u32,
    /// `WEBHOOK_CONCURRENCY`: requests in flight at once.
    pub concurrency: usize,
    /// `WEBHOOK_BATCH_SIZE`: deliveries claimed per database round trip.
    pub batch_size: usize,
    /// `WEBHOOK_SESSION_HOURS`: how long a console login lasts.
    pub session_ttl: Duration,
    /// `WEBHOOK_SECURE_COOKIES`: mark the console's cookie `Secure` (set it when served over HTTPS).
    pub secure_cookies: bool,
    /// Failed sign-ins and unknown keys per client address per minute before it is refused (0: off).
    pub auth_failure_limit: u32,
    /// `WEBHOOK_API_RATE_LIMIT`: API requests per second per key (0: unlimited); a key may have its own.
    pub api_rate_limit: u32,
    /// `WEBHOOK_API_RATE_BURST`: requests a key may make at once before the rate applies (default
    /// twice the rate).
    pub api_rate_burst: u32,
    /// `WEBHOOK_PUBLISH_RATE_LIMIT`: events published per second per tenant, whatever key (0: unlimited).
    pub publish_rate_limit: u32,
    /// `WEBHOOK_TRUSTED_PROXIES`: proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<IpNet>,
    /// `WEBHOOK_RETENTION_DAYS`: attempts and finished events older than this are purged (0: never).
    pub retention: Duration,
    /// How often the purge runs (`WEBHOOK_RETENTION_INTERVAL` in ms, default an hour).
    pub retention_interval: Duration,
    /// Alert thresholds and how often and over which window they are evaluated.
    pub alerts: AlertConfig,
    /// Deadlines and bounds of client connections: `WEBHOOK_HTTP_HEADER_TIMEOUT` (first byte and
    /// request headers, ms, default 10 s), `WEBHOOK_HTTP_BODY_TIMEOUT` (a request's body, ms, 60 s),
    /// `WEBHOOK_HTTP_IDLE_TIMEOUT` (no request under way, ms, 60 s), `WEBHOOK_MAX_CONNECTIONS` (10,000).
    pub http: HttpLimits,
    /// `WEBHOOK_MAX_WEBHOOKS_PER_TENANT`: webhooks one tenant may have (default 1,000).
    pub max_webhooks_per_tenant: u64,
    /// `WEBHOOK_DELIVERY_MEMORY_MB`: payload memory a node may hold for deliveries it has claimed
    /// (waiting for their start or in flight), in MiB (default 32).
    pub delivery_memory: usize,
    /// `WEBHOOK_AUDIT_RETENTION_DAYS`: audit entries older than this are purged (0: never; 365).
    pub audit_retention: Duration,
    /// `LOG_FORMAT=json` for JSON logs.
    pub log_json: bool,
    /// Path of the Leptos settings file (`LEPTOS_CONFIG`, default `Leptos.toml`).
    pub leptos_config: String,
}

impl Default for Config {
    fn default() -> Self {
        Self::from_lookup(|_| None).expect("the defaults are valid")
    }
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, String> {
        Self::from_lookup(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
    }

    /// Reads settings through `get` (a variable name to its value), so tests need not touch the environment.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let num = |name: &str, default: u64| -> Result<u64, String> {
            match get(name) {
                None => Ok(default),
                Some(v) => {
                    v.trim().replace('_', "").parse::<u64>().map_err(|_| format!("{name}={v:?} is not a whole number"))
                }
            }
        };
        let flag = |name: &str| -> Result<bool, String> {
            match get(name).as_deref().map(str::trim) {
                None => Ok(false),
                Some("1" | "true" | "yes" | "on") => Ok(true),
                Some("0" | "false" | "no" | "off") => Ok(false),
                Some(v) => Err(format!("{name}={v:?} is not true or false")),
            }
        };
        let ratio = |name: &str, default: f64| -> Result<f64, String> {
            match get(name) {
                None => Ok(default),
                Some(v) => v
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|r| (0.0..=1.0).contains(r))
                    .ok_or_else(|| format!("{name}={v:?} is not a ratio between 0 and 1")),
            }
        };
        let addr = match get("LEPTOS_SITE_ADDR") {
            None => None,
            Some(v) => Some(v.parse().map_err(|_| format!("LEPTOS_SITE_ADDR={v:?} is not host:port"))?),
        };
        let allowed_subnets = get("WEBHOOK_ALLOWED_SUBNETS")
            .map(|v| parse_subnets("WEBHOOK_ALLOWED_SUBNETS", &v))
            .transpose()?
            .unwrap_or_default();
        let retry_schedule = get("WEBHOOK_RETRY_SCHEDULE").map(|v| parse_schedule(&v)).transpose()?;
        let positive = |name: &str, v: u64| -> Result<u64, String> {
            if v == 0 {
                Err(format!("{name} must be greater than 0"))
            } else {
                Ok(v)
            }
        };
        Ok(Config {
            addr,
            database_url: get("DATABASE_URL").unwrap_or_else(|| "sqlite://data/monay-webhooks.db".into()),
            admin_token: get("WEBHOOK_ADMIN_TOKEN"),
            sealer: match (get("WEBHOOK_ENCRYPTION_KEY"), get("WEBHOOK_ENCRYPTION_KEY_PREVIOUS")) {
                (None, None) => None,
                (None, Some(_)) => {
                    return Err(
                        "WEBHOOK_ENCRYPTION_KEY_PREVIOUS is set without WEBHOOK_ENCRYPTION_KEY (the new key)".into()
                    )
                }
                (Some(key), previous) => {
                    let sealer = crate::crypto::Sealer::new(key.trim())?;
                    Some(match previous {
                        Some(previous) => sealer.with_previous(previous.trim())?,
                        None => sealer,
                    })
                }
            },
            allow_http: flag("WEBHOOK_ALLOW_HTTP")?,
            allowed_subnets,
            max_payload: positive("WEBHOOK_MAX_PAYLOAD", num("WEBHOOK_MAX_PAYLOAD", 1_048_576)?)? as usize,
            max_retries: num("WEBHOOK_MAX_RETRIES", 3)? as u32,
            retry_delay: Duration::from_millis(num("WEBHOOK_RETRY_DELAY", 5_000)?),
            retry_schedule,
            timeout: Duration::from_millis(positive("WEBHOOK_TIMEOUT", num("WEBHOOK_TIMEOUT", 10_000)?)?),
            max_failures: positive("WEBHOOK_MAX_FAILURES", num("WEBHOOK_MAX_FAILURES", 10)?)? as u32,
            concurrency: positive("WEBHOOK_CONCURRENCY", num("WEBHOOK_CONCURRENCY", 256)?)? as usize,
            batch_size: positive("WEBHOOK_BATCH_SIZE", num("WEBHOOK_BATCH_SIZE", 500)?)? as usize,
            session_ttl: Duration::from_secs(
                3600 * positive("WEBHOOK_SESSION_HOURS", num("WEBHOOK_SESSION_HOURS", 12)?)?,
            ),
            secure_cookies: flag("WEBHOOK_SECURE_COOKIES")?,
            auth_failure_limit: num("WEBHOOK_AUTH_FAILURE_LIMIT", 20)? as u32,
            api_rate_limit: num("WEBHOOK_API_RATE_LIMIT", 1_000)?.min(u32::MAX as u64) as u32,
            api_rate_burst: match get("WEBHOOK_API_RATE_BURST") {
                None => num("WEBHOOK_API_RATE_LIMIT", 1_000)?.saturating_mul(2).min(u32::MAX as u64) as u32,
                Some(_) => {
                    positive("WEBHOOK_API_RATE_BURST", num("WEBHOOK_API_RATE_BURST", 1)?)?.min(u32::MAX as u64) as u32
                }
            },
            publish_rate_limit: num("WEBHOOK_PUBLISH_RATE_LIMIT", 0)?.min(u32::MAX as u64) as u32,
            trusted_proxies: get("WEBHOOK_TRUSTED_PROXIES")
                .map(|v| parse_subnets("WEBHOOK_TRUSTED_PROXIES", &v))
                .transpose()?
                .unwrap_or_default(),
            retention: Duration::from_secs(86_400 * num("WEBHOOK_RETENTION_DAYS", 30)?),
            retention_interval: Duration::from_millis(positive(
                "WEBHOOK_RETENTION_INTERVAL",
                num("WEBHOOK_RETENTION_INTERVAL", 3_600_000)?,
            )?),
            alerts: AlertConfig {
                success_warning: ratio("WEBHOOK_ALERT_SUCCESS_WARNING", 0.90)?,
                success_critical: ratio("WEBHOOK_ALERT_SUCCESS_CRITICAL", 0.80)?,
                queue_warning: num("WEBHOOK_ALERT_QUEUE", 1_000)? as i64,
                latency_warning_ms: num("WEBHOOK_ALERT_LATENCY_MS", 2_000)? as f64,
                min_attempts: num("WEBHOOK_ALERT_MIN_ATTEMPTS", 10)? as i64,
                window: Duration::from_millis(positive(
                    "WEBHOOK_ALERT_WINDOW",
                    num("WEBHOOK_ALERT_WINDOW", 3_600_000)?,
                )?),
                interval: Duration::from_millis(positive(
                    "WEBHOOK_ALERT_INTERVAL",
                    num("WEBHOOK_ALERT_INTERVAL", 30_000)?,
                )?),
            },
            http: HttpLimits {
                header: Duration::from_millis(positive(
                    "WEBHOOK_HTTP_HEADER_TIMEOUT",
                    num("WEBHOOK_HTTP_HEADER_TIMEOUT", 10_000)?,
                )?),
                body: Duration::from_millis(positive(
                    "WEBHOOK_HTTP_BODY_TIMEOUT",
                    num("WEBHOOK_HTTP_BODY_TIMEOUT", 60_000)?,
                )?),
                idle: Duration::from_millis(positive(
                    "WEBHOOK_HTTP_IDLE_TIMEOUT",
                    num("WEBHOOK_HTTP_IDLE_TIMEOUT", 60_000)?,
                )?),
                max_connections: positive("WEBHOOK_MAX_CONNECTIONS", num("WEBHOOK_MAX_CONNECTIONS", 10_000)?)? as usize,
            },
            max_webhooks_per_tenant: positive(
                "WEBHOOK_MAX_WEBHOOKS_PER_TENANT",
                num("WEBHOOK_MAX_WEBHOOKS_PER_TENANT", 1_000)?,
            )?,
            delivery_memory: (positive("WEBHOOK_DELIVERY_MEMORY_MB", num("WEBHOOK_DELIVERY_MEMORY_MB", 32)?)? as usize)
                .saturating_mul(1 << 20),
            audit_retention: Duration::from_secs(86_400 * num("WEBHOOK_AUDIT_RETENTION_DAYS", 365)?),
            log_json: get("LOG_FORMAT").is_some_and(|v| v.eq_ignore_ascii_case("json")),
            leptos_config: get("LEPTOS_CONFIG").unwrap_or_else(|| "Leptos.toml".into()),
        })
    }
}

/// The deadlines and bounds of client connections (`WEBHOOK_HTTP_*` settings, see `Config`).
#[derive(Clone, Copy, Debug)]
pub struct HttpLimits {
    /// From accepting a connection to its first byte, and for a request's whole header.
    pub header: Duration,
    /// For a request's whole body, from the request's start.
    pub body: Duration,
    /// With no request under way (HTTP/1 keep-alive, HTTP/2 with no stream open).
    pub idle: Duration,
    /// Open connections served normally.
    pub max_connections: usize,
}

/// When alerts are raised (the seed's thresholds by default).
#[derive(Clone, Debug)]
pub struct AlertConfig {
    /// Success rate below this: warning (`WEBHOOK_ALERT_SUCCESS_WARNING`, 0.90).
    pub success_warning: f64,
    /// Success rate below this: critical (`WEBHOOK_ALERT_SUCCESS_CRITICAL`, 0.80).
    pub success_critical: f64,
    /// Waiting deliveries above this: warning (`WEBHOOK_ALERT_QUEUE`, 1000).
    pub queue_warning: i64,
    /// Average response time above this: warning (`WEBHOOK_ALERT_LATENCY_MS`, 2000).
    pub latency_warning_ms: f64,
    /// Fewer attempts in the window than this say nothing about rates (`WEBHOOK_ALERT_MIN_ATTEMPTS`, 10).
    pub min_attempts: i64,
    /// The window rates are computed over (`WEBHOOK_ALERT_WINDOW` in ms, an hour).
    pub window: Duration,
    /// How often alerts are evaluated for the `system.alert` events (`WEBHOOK_ALERT_INTERVAL` in ms, 30 s).
    pub interval: Duration,
}

/// Parses `127.0.0.0/8, 10.1.2.3` (a bare address is a /32 or /128), the value of `name`.
pub fn parse_subnets(name: &str, text: &str) -> Result<Vec<IpNet>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            crate::domain::traffic::parse_range(s)
                .map_err(|_| format!("{name}: {s:?} is not a subnet like 127.0.0.0/8"))
        })
        .collect()
}

/// Parses a retry schedule like `5s,5m,30m,2h,5h` (units ms, s, m, h; a bare number is ms).
pub fn parse_schedule(text: &str) -> Result<Vec<Duration>, String> {
    let items: Vec<&str> = text.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
    if items.is_empty() {
        return Err("WEBHOOK_RETRY_SCHEDULE is empty".into());
    }
    items
        .into_iter()
        .map(|item| {
            let split = item.find(|c: char| !c.is_ascii_digit()).unwrap_or(item.len());
            let (digits, unit) = item.split_at(split);
            let n: u64 =
                digits.parse().map_err(|_| format!("WEBHOOK_RETRY_SCHEDULE: {item:?} is not a duration like 30s"))?;
            let ms = match unit {
                "" | "ms" => n,
                "s" => n * 1_000,
                "m" => n * 60_000,
                "h" => n * 3_600_000,
                "d" => n * 86_400_000,
                _ => return Err(format!("WEBHOOK_RETRY_SCHEDULE: unknown unit in {item:?} (ms, s, m, h, d)")),
            };
            Ok(Duration::from_millis(ms))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn with(vars: &[(&str, &str)]) -> Result<Config, String> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_follow_the_spec() {
        let c = Config::default();
        assert_eq!(c.max_payload, 1_048_576);
        assert_eq!(c.max_retries, 3);
        assert_eq!(c.retry_delay, Duration::from_millis(5_000));
        assert_eq!(c.timeout, Duration::from_millis(10_000));
        assert_eq!(c.max_failures, 10);
        assert!(!c.allow_http);
        assert!(c.database_url.starts_with("sqlite://data/"));
    }

    #[test]
    fn values_are_parsed_and_bad_ones_named() {
        let c = with(&[("WEBHOOK_ALLOWED_SUBNETS", "127.0.0.0/8, ::1"), ("WEBHOOK_ALLOW_HTTP", "true")]).unwrap();
        assert_eq!(c.allowed_subnets.len(), 2);
        assert!(c.allow_http);
        assert!(with(&[("WEBHOOK_MAX_RETRIES", "three")]).unwrap_err().contains("WEBHOOK_MAX_RETRIES"));
        assert!(with(&[("WEBHOOK_ALLOWED_SUBNETS", "lan")]).unwrap_err().contains("lan"));
        assert!(with(&[("WEBHOOK_TIMEOUT", "0")]).is_err());
        let c = with(&[("WEBHOOK_API_RATE_LIMIT", "50"), ("WEBHOOK_TRUSTED_PROXIES", "10.0.0.0/8")]).unwrap();
        assert_eq!((c.api_rate_limit, c.api_rate_burst, c.trusted_proxies.len()), (50, 100, 1));
        assert!(with(&[("WEBHOOK_TRUSTED_PROXIES", "proxy")]).unwrap_err().contains("WEBHOOK_TRUSTED_PROXIES"));
    }

    #[test]
    fn retry_schedules_take_units() {
        let s = parse_schedule("5s,5m,30m,2h,5h").unwrap();
        assert_eq!(s[0], Duration::from_secs(5));
        assert_eq!(s[4], Duration::from_secs(5 * 3600));
        assert_eq!(parse_schedule("250").unwrap()[0], Duration::from_millis(250));
        assert!(parse_schedule("5 parsecs").is_err());
    }
}
