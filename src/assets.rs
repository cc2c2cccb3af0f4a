//! The console's bundle (`/pkg/*`: its WASM, JavaScript and stylesheet), read once at start and
//! served from memory: in the smallest encoding the browser accepts (brotli or gzip, made at build
//! time by `cargo leptos build --precompress`), with a strong `ETag` answered by 304, and cached for a
//! year (`immutable`) when the build put each file's content hash in its name (`hash-files`, listed
//! in `hash.txt` beside the server binary) — otherwise revalidated on every load.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The bundle's files by name.
#[derive(Default)]
pub struct Assets {
    files: HashMap<String, Asset>,
    /// Names carry their content hash: cache for a year.
    immutable: bool,
}

/// One file and its precompressed forms.
struct Asset {
    content_type: &'static str,
    /// The content's hash, the root of each encoding's ETag.
    hash: String,
    identity: axum::body::Bytes,
    br: Option<axum::body::Bytes>,
    gzip: Option<axum::body::Bytes>,
}

/// A response body's encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Brotli,
    Gzip,
    Identity,
}

impl Encoding {
    fn token(self) -> &'static str {
        match self {
            Encoding::Brotli => "br",
            Encoding::Gzip => "gzip",
            Encoding::Identity => "identity",
        }
    }
}

/// The best encoding `accept` (an `Accept-Encoding` value) allows among those available: brotli,
/// then gzip, then none. A coding with `q=0` is refused.
pub fn choose_encoding(accept: &str, has_br: bool, has_gzip: bool) -> Encoding {
    let accepts = |coding: &str| {
        accept.split(',').any(|part| {
            let mut pieces = part.split(';');
            let name = pieces.next().unwrap_or("").trim();
            let refused = pieces.any(|p| {
                let p = p.trim().replace(' ', "");
                p.strip_prefix("q=").and_then(|q| q.parse::<f32>().ok()).is_some_and(|q| q <= 0.0)
            });
            (name.eq_ignore_ascii_case(coding) || name == "*") && !refused
        })
    };
    if has_br && accepts("br") {
        Encoding::Brotli
    } else if has_gzip && accepts("gzip") {
        Encoding::Gzip
    } else {
        Encoding::Identity
    }
}

/// The content type of a bundle file, by its extension; `None` for files not served.
fn content_type(name: &str) -> Option<&'static str> {
    match name.rsplit('.').next()? {
        "wasm" => Some("application/wasm"),
        "js" => Some("text/javascript; charset=utf-8"),
        "css" => Some("text/css; charset=utf-8"),
        _ => None,
    }
}

impl Assets {
    /// Reads the bundle in `dir` (nothing if it is missing: a server built without its console).
    pub fn load(dir: &Path, immutable: bool) -> Assets {
        let mut files = HashMap::new();
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            let Some(content_type) = content_type(&name) else { continue };
            let Ok(identity) = std::fs::read(entry.path()) else { continue };
            let variant = |suffix: &str| std::fs::read(dir.join(format!("{name}.{suffix}"))).ok().map(Into::into);
            let hash = Sha256::digest(&identity).iter().take(12).map(|b| format!("{b:02x}")).collect();
            let asset = Asset { content_type, hash, identity: identity.into(), br: variant("br"), gzip: variant("gz") };
            files.insert(name, asset);
        }
        Assets { files, immutable }
    }

    /// The answer for `/pkg/{name}` given the request's headers.
    pub fn serve(&self, name: &str, request: &HeaderMap) -> Response {
        let Some(asset) = self.files.get(name) else {
            return Response::builder().status(StatusCode::NOT_FOUND).body(Body::from("not found")).unwrap_or_default();
        };
        let accept = request.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or("");
        let encoding = choose_encoding(accept, asset.br.is_some(), asset.gzip.is_some());
        let etag = format!("\"{}-{}\"", asset.hash, encoding.token());
        let cache = if self.immutable { "public, max-age=31536000, immutable" } else { "no-cache" };
        let not_modified = request
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|tags| tags.split(',').any(|t| t.trim().trim_start_matches("W/") == etag || t.trim() == "*"));
        let mut response = Response::builder()
            .header(header::ETAG, &etag)
            .header(header::CACHE_CONTROL, cache)
            .header(header::VARY, "Accept-Encoding");
        if not_modified {
            return response.status(StatusCode::NOT_MODIFIED).body(Body::empty()).unwrap_or_default();
        }
        let body = match encoding {
            Encoding::Brotli => asset.br.clone(),
            Encoding::Gzip => asset.gzip.clone(),
            Encoding::Identity => None,
        };
        if encoding != Encoding::Identity {
            response = response.header(header::CONTENT_ENCODING, encoding.token());
        }
        response
            .header(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type))
            .body(Body::from(body.unwrap_or_else(|| asset.identity.clone())))
            .unwrap_or_default()
    }
}

/// The build's `hash.txt` chosen at start (see [`find_hash_file`]).
static HASH_FILE: OnceLock<Option<PathBuf>> = OnceLock::new();

/// Finds the `hash.txt` the build wrote (`js: …`, `wasm: …`, `css: …`, and the split loader's):
/// beside the server binary (where `cargo leptos build` puts it), or else in the site folder (where
/// the build scripts copy it, so that a copied binary and site folder carry it along).
pub fn find_hash_file(exe_dir: Option<&Path>, site_root: &Path) -> Option<PathBuf> {
    let beside = exe_dir.map(|dir| dir.join("hash.txt")).filter(|p| p.is_file());
    beside.or_else(|| Some(site_root.join("hash.txt")).filter(|p| p.is_file()))
}

/// Uses `path` as the build's hash file from now on (once, at start; later calls change nothing).
pub fn use_hash_file(path: Option<PathBuf>) {
    let _ = HASH_FILE.set(path);
}

/// The hash file's text read from the bundle's own names, for a bundle whose `hash.txt` was left
/// behind (a binary and site folder copied without it): `<name>.<hash>.js|wasm|css`,
/// `__wasm_split.<hash>.js`, `__wasm_split_manifest.<hash>.json` — the newest of each kind, should
/// an older build's files remain. `None` when the folder holds no hashed bundle (a plain build's
/// `<name>.wasm`, or nothing).
pub fn hashes_from_bundle(pkg_dir: &Path, output_name: &str) -> Option<String> {
    if pkg_dir.join(format!("{output_name}.wasm")).is_file() {
        return None;
    }
    let kinds: [(&str, String, &str); 5] = [
        ("js", format!("{output_name}."), ".js"),
        ("wasm", format!("{output_name}."), ".wasm"),
        ("css", format!("{output_name}."), ".css"),
        ("split", "__wasm_split.".to_string(), ".js"),
        ("manifest", "__wasm_split_manifest.".to_string(), ".json"),
    ];
    let mut newest: HashMap<&str, (std::time::SystemTime, String)> = HashMap::new();
    for entry in std::fs::read_dir(pkg_dir).ok()?.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let modified = entry.metadata().and_then(|m| m.modified()).unwrap_or(std::time::UNIX_EPOCH);
        for (kind, prefix, suffix) in &kinds {
            let Some(hash) = name.strip_prefix(prefix.as_str()).and_then(|rest| rest.strip_suffix(suffix)) else {
                continue;
            };
            // A hash is one word of URL-safe base64 (not `d.…` type files, nor `_bg` parts).
            if hash.is_empty() || !hash.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                continue;
            }
            if newest.get(kind).is_none_or(|(at, _)| modified > *at) {
                newest.insert(kind, (modified, hash.to_string()));
            }
        }
    }
    newest.get("wasm")?;
    let mut text = String::new();
    for (kind, _, _) in &kinds {
        if let Some((_, hash)) = newest.get(kind) {
            text.push_str(&format!("{kind}: {hash}\n"));
        }
    }
    Some(text)
}

/// The content hashes of the build's hash file; empty when it did not hash file names.
pub fn build_hashes() -> &'static HashMap<String, String> {
    static HASHES: OnceLock<HashMap<String, String>> = OnceLock::new();
    HASHES.get_or_init(|| {
        let path = HASH_FILE.get_or_init(|| {
            let exe_dir = std::env::current_exe().ok().and_then(|exe| exe.parent().map(Path::to_path_buf));
            exe_dir.map(|dir| dir.join("hash.txt"))
        });
        let text = path.as_ref().and_then(|p| std::fs::read_to_string(p).ok()).unwrap_or_default();
        text.lines()
            .filter_map(|line| line.split_once(':'))
            .map(|(kind, hash)| (kind.trim().to_string(), hash.trim().to_string()))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_file_is_found_beside_the_binary_or_in_the_site_folder() {
        let exe = tempfile::tempdir().unwrap();
        let site = tempfile::tempdir().unwrap();
        let pkg = site.path().join("pkg");
        std::fs::create_dir(&pkg).unwrap();
        std::fs::write(pkg.join("app.Ab12.wasm"), "w").unwrap();
        std::fs::write(pkg.join("app.Js-3_.js"), "j").unwrap();
        std::fs::write(pkg.join("app.d.Xy.ts"), "t").unwrap();
        std::fs::write(pkg.join("__wasm_split.Sp1.js"), "s").unwrap();
        std::fs::write(pkg.join("app.Ab12.wasm.br"), "b").unwrap();
        assert_eq!(hashes_from_bundle(&pkg, "app").unwrap(), "js: Js-3_\nwasm: Ab12\nsplit: Sp1\n");
        assert_eq!(find_hash_file(Some(exe.path()), site.path()), None);
        std::fs::write(site.path().join("hash.txt"), "wasm: Ab12").unwrap();
        assert_eq!(find_hash_file(Some(exe.path()), site.path()), Some(site.path().join("hash.txt")));
        std::fs::write(exe.path().join("hash.txt"), "wasm: Ab12").unwrap();
        assert_eq!(find_hash_file(Some(exe.path()), site.path()), Some(exe.path().join("hash.txt")), "beside first");
        std::fs::write(pkg.join("app.wasm"), "w").unwrap();
        assert_eq!(hashes_from_bundle(&pkg, "app"), None, "a plain build's names");
        assert_eq!(hashes_from_bundle(&site.path().join("nowhere"), "app"), None);
    }

    #[test]
    fn brotli_is_preferred_then_gzip_and_a_refused_coding_is_not_sent() {
        assert_eq!(choose_encoding("gzip, deflate, br, zstd", true, true), Encoding::Brotli);
        assert_eq!(choose_encoding("gzip, deflate", true, true), Encoding::Gzip);
        assert_eq!(choose_encoding("br;q=0, gzip;q=0.8", true, true), Encoding::Gzip);
        assert_eq!(choose_encoding("br", false, true), Encoding::Identity);
        assert_eq!(choose_encoding("", true, true), Encoding::Identity);
        assert_eq!(choose_encoding("*", true, true), Encoding::Brotli);
        assert_eq!(choose_encoding("BR", true, false), Encoding::Brotli);
    }

    #[test]
    fn files_are_served_encoded_with_an_etag_and_a_304_for_a_known_one() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("app.abc.js"), "console.log(1)").unwrap();
        std::fs::write(dir.path().join("app.abc.js.br"), "BR").unwrap();
        std::fs::write(dir.path().join("app.abc.js.gz"), "GZ").unwrap();
        std::fs::write(dir.path().join("app.d.ts"), "types").unwrap();
        let assets = Assets::load(dir.path(), true);
        let mut request = HeaderMap::new();
        request.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip, br"));
        let answer = assets.serve("app.abc.js", &request);
        assert_eq!(answer.status(), StatusCode::OK);
        assert_eq!(answer.headers()[header::CONTENT_ENCODING], "br");
        assert_eq!(answer.headers()[header::CACHE_CONTROL], "public, max-age=31536000, immutable");
        assert_eq!(answer.headers()[header::VARY], "Accept-Encoding");
        assert!(answer.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/javascript"));
        let etag = answer.headers()[header::ETAG].clone();
        request.insert(header::IF_NONE_MATCH, etag);
        assert_eq!(assets.serve("app.abc.js", &request).status(), StatusCode::NOT_MODIFIED);
        request.remove(header::ACCEPT_ENCODING);
        let plain = assets.serve("app.abc.js", &request);
        assert_eq!(plain.status(), StatusCode::OK, "another encoding is another representation");
        assert!(plain.headers().get(header::CONTENT_ENCODING).is_none());
        assert_eq!(assets.serve("app.d.ts", &request).status(), StatusCode::NOT_FOUND);
        assert_eq!(
            Assets::load(dir.path(), false).serve("app.abc.js", &request).headers()[header::CACHE_CONTROL],
            "no-cache"
        );
    }
}
