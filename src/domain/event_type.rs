//! The event-type catalog: the seed's types, name rules and subscription patterns (`a.b`, `a.*`, `*`).

use serde::{Deserialize, Serialize};

/// One type of event that can be published and subscribed to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct EventType {
    pub name: String,
    pub category: String,
    pub description: String,
    /// Added by an admin rather than part of the built-in catalog.
    pub custom: bool,
}

/// The built-in catalog: (name, category, description). The categories are the console's groups.
pub const BUILT_IN: &[(&str, &str, &str)] = &[
    ("wallet.created", "wallet", "A wallet was created."),
    ("wallet.updated", "wallet", "A wallet's details or limits changed."),
    ("wallet.deleted", "wallet", "A wallet was closed and deleted."),
    ("transaction.created", "transaction", "A transaction was created."),
    ("transaction.pending", "transaction", "A transaction is waiting for settlement or approval."),
    ("transaction.completed", "transaction", "A transaction settled successfully."),
    ("transaction.failed", "transaction", "A transaction failed or was rejected."),
    ("user.created", "user", "A user account was created."),
    ("user.updated", "user", "A user's profile changed."),
    ("user.deleted", "user", "A user account was deleted."),
    ("user.verified", "user", "A user completed identity verification."),
    ("kyc.completed", "compliance", "A KYC check passed."),
    ("kyc.failed", "compliance", "A KYC check failed."),
    ("aml.alert", "compliance", "Anti-money-laundering screening raised an alert."),
    ("security.alert", "security", "A security-relevant event needs attention."),
    ("auth.login.success", "security", "A user signed in."),
    ("auth.login.failed", "security", "A sign-in attempt failed."),
    ("mfa.enabled", "security", "A user turned on multi-factor authentication."),
    ("webhook.test", "system", "A test delivery sent from the console or the API."),
    ("system.alert", "system", "The webhook service raised or cleared an operational alert."),
];

/// The categories, in the order the console shows them.
pub const CATEGORIES: &[&str] = &["wallet", "transaction", "user", "compliance", "security", "system"];

/// A subscription to a whole category: `category:security` receives every type the catalog files under
/// `security`, today's and those added later, whatever their names look like.
pub const CATEGORY_PREFIX: &str = "category:";

/// Does the subscription `pattern` (`*`, `category:<name>`, `prefix.*` or an exact name) match the
/// event type `name`, whose catalog category is `category`?
pub fn pattern_matches(pattern: &str, name: &str, category: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    if let Some(wanted) = pattern.strip_prefix(CATEGORY_PREFIX) {
        return wanted == category;
    }
    match pattern.strip_suffix('*') {
        // `prefix.*` keeps its dot, so `wallet.*` matches `wallet.created` but not `wallets.x`.
        Some(prefix) => name.starts_with(prefix) && name.len() > prefix.len(),
        None => pattern == name,
    }
}

/// Does any of the subscription patterns match the event type?
pub fn any_matches<S: AsRef<str>>(patterns: &[S], name: &str, category: &str) -> bool {
    patterns.iter().any(|p| pattern_matches(p.as_ref(), name, category))
}

/// The catalog's types that `patterns` receive, in catalog order: what a webhook page shows.
pub fn received<'a, S: AsRef<str>>(patterns: &[S], catalog: &'a [EventType]) -> Vec<&'a EventType> {
    catalog.iter().filter(|t| any_matches(patterns, &t.name, &t.category)).collect()
}

/// What one subscription pattern receives today, as the console shows it beside the pattern: the
/// catalog's types it matches and, for a `prefix.*` whose prefix is also a category's name but that
/// does not receive the same types as that category, how the two differ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reach {
    pub types: Vec<String>,
    pub note: Option<String>,
}

/// The reach of `pattern` over `catalog` (see [`Reach`]).
pub fn reach(pattern: &str, catalog: &[EventType]) -> Reach {
    let types: Vec<String> = received(&[pattern], catalog).into_iter().map(|t| t.name.clone()).collect();
    let note = pattern.strip_suffix(".*").filter(|prefix| catalog.iter().any(|t| t.category == *prefix)).and_then(
        |category| {
            let left_out: Vec<&str> = catalog
                .iter()
                .filter(|t| t.category == category && !types.contains(&t.name))
                .map(|t| t.name.as_str())
                .collect();
            let others: Vec<&str> = catalog
                .iter()
                .filter(|t| t.category != category && types.contains(&t.name))
                .map(|t| t.name.as_str())
                .collect();
            let mut parts = Vec::new();
            if !left_out.is_empty() {
                parts.push(format!(
                    "not the whole {category} category: it leaves out {} ({CATEGORY_PREFIX}{category} has them)",
                    left_out.join(", ")
                ));
            }
            if !others.is_empty() {
                parts.push(format!("it also takes {} from other categories", others.join(", ")));
            }
            (!parts.is_empty()).then(|| format!("Matches by name, {}.", parts.join("; ")))
        },
    );
    Reach { types, note }
}

/// Checks the syntax of an event-type name: lowercase dotted segments, e.g. `invoice.paid`.
pub fn validate_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 100 {
        return Err("an event type is 1 to 100 characters".into());
    }
    let segments: Vec<&str> = name.split('.').collect();
    if segments.len() < 2 {
        return Err(format!("'{name}' needs at least two dot-separated parts, e.g. 'invoice.paid'"));
    }
    for seg in segments {
        let ok = !seg.is_empty()
            && seg.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && seg.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !ok {
            return Err(format!(
                "'{name}' may only use lowercase letters, digits and '_' in parts that start with a letter"
            ));
        }
    }
    Ok(())
}

/// Checks one subscription pattern against the catalog (`(name, category)` pairs): an exact known
/// type, `*`, `category:<known category>`, or `prefix.*` where the prefix matches at least one known
/// type (so a typo is caught at registration).
pub fn validate_pattern<N: AsRef<str>, C: AsRef<str>>(pattern: &str, known: &[(N, C)]) -> Result<(), String> {
    if pattern == "*" {
        return Ok(());
    }
    if let Some(category) = pattern.strip_prefix(CATEGORY_PREFIX) {
        if known.iter().any(|(_, c)| c.as_ref() == category) {
            return Ok(());
        }
        return Err(format!("'{pattern}' names no category of the catalog"));
    }
    if let Some(prefix) = pattern.strip_suffix(".*") {
        if prefix.is_empty() || prefix.contains('*') {
            return Err(format!("'{pattern}' is not a valid wildcard; use '*', 'prefix.*' or 'category:<name>'"));
        }
        if known.iter().any(|(k, c)| pattern_matches(pattern, k.as_ref(), c.as_ref())) {
            return Ok(());
        }
        return Err(format!("'{pattern}' matches no known event type"));
    }
    if pattern.contains('*') {
        return Err(format!("'{pattern}' is not a valid wildcard; use '*', 'prefix.*' or 'category:<name>'"));
    }
    if known.iter().any(|(k, _)| k.as_ref() == pattern) {
        Ok(())
    } else {
        Err(format!("'{pattern}' is not a known event type"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> Vec<(&'static str, &'static str)> {
        BUILT_IN.iter().map(|t| (t.0, t.1)).collect()
    }

    /// The built-in catalog as the store lists it.
    fn built_in() -> Vec<EventType> {
        BUILT_IN
            .iter()
            .map(|(n, c, d)| EventType {
                name: n.to_string(),
                category: c.to_string(),
                description: d.to_string(),
                custom: false,
            })
            .collect()
    }

    fn category_of(name: &str) -> &'static str {
        BUILT_IN.iter().find(|t| t.0 == name).map(|t| t.1).unwrap_or("custom")
    }

    #[test]
    fn the_catalog_has_the_seeds_twenty_types_in_known_categories() {
        assert_eq!(BUILT_IN.len(), 20);
        for (name, category, _) in BUILT_IN {
            validate_name(name).unwrap();
            assert!(CATEGORIES.contains(category), "{name} has unknown category {category}");
        }
    }

    #[test]
    fn wildcards_match_by_dotted_prefix() {
        assert!(pattern_matches("*", "wallet.created", category_of("wallet.created")));
        assert!(pattern_matches("wallet.*", "wallet.created", category_of("wallet.created")));
        assert!(pattern_matches("auth.*", "auth.login.success", category_of("auth.login.success")));
        assert!(pattern_matches("auth.login.*", "auth.login.failed", category_of("auth.login.failed")));
        assert!(!pattern_matches("wallet.*", "wallets.created", category_of("wallets.created")));
        assert!(!pattern_matches("wallet.*", "transaction.created", category_of("transaction.created")));
        assert!(pattern_matches("kyc.failed", "kyc.failed", category_of("kyc.failed")));
        assert!(!pattern_matches("kyc.failed", "kyc.completed", category_of("kyc.completed")));
    }

    #[test]
    fn patterns_are_checked_against_the_catalog() {
        let k = known();
        assert!(validate_pattern("*", &k).is_ok());
        assert!(validate_pattern("transaction.*", &k).is_ok());
        assert!(validate_pattern("transaction.completed", &k).is_ok());
        assert!(validate_pattern("transaction.complete", &k).unwrap_err().contains("not a known"));
        assert!(validate_pattern("invoice.*", &k).unwrap_err().contains("matches no known"));
        assert!(validate_pattern("wal*", &k).is_err());
        assert!(validate_pattern(".*", &k).is_err());
        assert!(validate_pattern("category:compliance", &k).is_ok());
        assert!(validate_pattern("category:finance", &k).unwrap_err().contains("no category"));
    }

    #[test]
    fn a_category_subscription_receives_exactly_the_types_filed_under_it() {
        let catalog = built_in();
        for category in CATEGORIES {
            let got: Vec<&str> =
                received(&[format!("category:{category}")], &catalog).iter().map(|t| t.name.as_str()).collect();
            let want: Vec<&str> = BUILT_IN.iter().filter(|t| t.1 == *category).map(|t| t.0).collect();
            assert_eq!(got, want, "category {category}");
        }
        // The security category holds names with three different prefixes.
        assert!(pattern_matches("category:security", "auth.login.failed", "security"));
        assert!(pattern_matches("category:security", "mfa.enabled", "security"));
        assert!(pattern_matches("category:system", "webhook.test", "system"));
        assert!(!pattern_matches("category:security", "wallet.created", "wallet"));
    }

    #[test]
    fn a_prefix_that_is_not_its_category_says_so() {
        let catalog = built_in();
        let security = reach("security.*", &catalog);
        assert_eq!(security.types, ["security.alert"]);
        let note = security.note.unwrap();
        assert!(note.contains("not the whole security category"), "{note}");
        assert!(note.contains("auth.login.success, auth.login.failed, mfa.enabled"), "{note}");
        assert!(note.contains("category:security"), "{note}");
        let wallet = reach("wallet.*", &catalog);
        assert_eq!(wallet.types, ["wallet.created", "wallet.updated", "wallet.deleted"]);
        assert_eq!(wallet.note, None, "the same types as the wallet category");
        assert_eq!(reach("auth.*", &catalog).note, None, "no category is called auth");
        assert_eq!(reach("*", &catalog).types.len(), 20);
        assert_eq!(reach("category:security", &catalog).types.len(), 4);
        assert_eq!(reach("kyc.failed", &catalog).types, ["kyc.failed"]);
    }

    #[test]
    fn names_must_be_dotted_lowercase() {
        assert!(validate_name("invoice.paid").is_ok());
        assert!(validate_name("invoice").is_err());
        assert!(validate_name("Invoice.paid").is_err());
        assert!(validate_name("invoice..paid").is_err());
        assert!(validate_name("invoice.1paid").is_err());
    }
}
