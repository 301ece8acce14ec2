//! SwCA: software components from lock files under the scan roots (Cargo.lock,
//! package-lock.json, requirements.txt, poetry.lock, go.sum), by a bounded directory walk,
//! written as a CycloneDX 1.6 SBOM with `openqps-sbom`.

use openqps_model::SwComponent;
use serde_json::Value;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

const MAX_DEPTH: usize = 8;
const MAX_ENTRIES: usize = 20_000;
const MAX_FILES: usize = 200;
const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;
const SKIP_DIRS: &[&str] = &[
    "target",
    "node_modules",
    ".git",
    ".venv",
    "venv",
    "__pycache__",
];
const LOCK_FILES: &[&str] = &[
    "Cargo.lock",
    "package-lock.json",
    "requirements.txt",
    "poetry.lock",
    "go.sum",
];

/// The lock files under `roots`, walked breadth-first with bounds on depth, entries and files.
pub fn find_lock_files(roots: &[PathBuf]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut queue: std::collections::VecDeque<(PathBuf, usize)> =
        roots.iter().map(|r| (r.clone(), 0)).collect();
    let mut entries = 0;
    while let Some((dir, depth)) = queue.pop_front() {
        let Ok(read) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut items: Vec<_> = read.flatten().collect();
        items.sort_by_key(|e| e.file_name());
        for e in items {
            entries += 1;
            if entries > MAX_ENTRIES || found.len() >= MAX_FILES {
                return found;
            }
            let Ok(ft) = e.file_type() else { continue };
            let name = e.file_name().to_string_lossy().to_string();
            if ft.is_dir() {
                if depth < MAX_DEPTH && !SKIP_DIRS.contains(&name.as_str()) {
                    queue.push_back((e.path(), depth + 1));
                }
            } else if ft.is_file() && LOCK_FILES.contains(&name.as_str()) {
                found.push(e.path());
            }
        }
    }
    found
}

struct Found {
    name: String,
    version: Option<String>,
}

fn component(eco: &str, f: Found, path: &Path) -> SwComponent {
    let purl_name = match eco {
        "npm" => f
            .name
            .replacen('@', "%40", usize::from(f.name.starts_with('@'))),
        "pypi" => f.name.to_ascii_lowercase().replace('_', "-"),
        _ => f.name.clone(),
    };
    let purl = match &f.version {
        Some(v) => format!("pkg:{eco}/{purl_name}@{v}"),
        None => format!("pkg:{eco}/{purl_name}"),
    };
    SwComponent {
        name: f.name,
        version: f.version,
        purl: Some(purl),
        ecosystem: Some(eco.to_string()),
        path: Some(path.to_string_lossy().into_owned()),
    }
}

/// `[[package]]` tables with `name = "…"` and `version = "…"` (Cargo.lock, poetry.lock).
fn toml_packages(text: &str) -> Vec<Found> {
    let mut out = Vec::new();
    let mut cur: Option<(Option<String>, Option<String>)> = None;
    let value = |l: &str| {
        l.split_once('=')
            .map(|(_, v)| v.trim().trim_matches('"').to_string())
    };
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            if let Some((Some(n), v)) = cur.take() {
                out.push(Found {
                    name: n,
                    version: v,
                });
            }
            if line == "[[package]]" {
                cur = Some((None, None));
            }
        } else if let Some(c) = cur.as_mut() {
            if line.starts_with("name =") || line.starts_with("name=") {
                c.0 = value(line);
            } else if line.starts_with("version =") || line.starts_with("version=") {
                c.1 = value(line);
            }
        }
    }
    if let Some((Some(n), v)) = cur {
        out.push(Found {
            name: n,
            version: v,
        });
    }
    out
}

fn npm_packages(text: &str) -> Vec<Found> {
    let Ok(v) = serde_json::from_str::<Value>(text) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(pkgs) = v.get("packages").and_then(Value::as_object) {
        for (key, p) in pkgs {
            let Some(idx) = key.rfind("node_modules/") else {
                continue;
            };
            out.push(Found {
                name: key[idx + "node_modules/".len()..].to_string(),
                version: p.get("version").and_then(Value::as_str).map(str::to_string),
            });
        }
    } else if let Some(deps) = v.get("dependencies").and_then(Value::as_object) {
        fn walk(deps: &serde_json::Map<String, Value>, out: &mut Vec<Found>, depth: usize) {
            for (name, d) in deps {
                out.push(Found {
                    name: name.clone(),
                    version: d.get("version").and_then(Value::as_str).map(str::to_string),
                });
                if depth < 32
                    && let Some(sub) = d.get("dependencies").and_then(Value::as_object)
                {
                    walk(sub, out, depth + 1);
                }
            }
        }
        walk(deps, &mut out, 0);
    }
    out
}

/// `requirements.txt`: `name==version` pins (`===` too), names alone, extras and markers
/// dropped; `pip-compile --generate-hashes` line continuations and `--hash` lines, options, URLs
/// and anything that is not a distribution name are skipped.
fn requirements(text: &str) -> Vec<Found> {
    let valid_name = |n: &str| {
        !n.is_empty()
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    };
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .map(|l| l.trim_end_matches('\\').trim())
        .filter(|l| !l.is_empty() && !l.starts_with('-'))
        .filter_map(|l| {
            let l = l.split(';').next().unwrap_or("").trim();
            // `name @ url` is a direct reference: the name, no version. A bare URL names none.
            let l = l.split(" @ ").next().unwrap_or("").trim();
            if l.contains("://") {
                return None;
            }
            let (name, version) = match l.split_once("===").or_else(|| l.split_once("==")) {
                Some((n, v)) => (n, Some(v.trim().to_string())),
                None => (
                    l.split(|c: char| "<>=!~[ ".contains(c))
                        .next()
                        .unwrap_or(""),
                    None,
                ),
            };
            let name = name.split('[').next().unwrap_or("").trim();
            let version = version.filter(|v| !v.is_empty() && !v.contains(char::is_whitespace));
            valid_name(name).then(|| Found {
                name: name.to_string(),
                version,
            })
        })
        .collect()
}

fn go_sum(text: &str) -> Vec<Found> {
    let mut seen = HashSet::new();
    text.lines()
        .filter_map(|l| {
            // `module version h1:hash`; anything else is not a go.sum line.
            let mut parts = l.split_whitespace();
            let module = parts.next()?;
            let version = parts.next()?.trim_end_matches("/go.mod");
            if !version.starts_with('v') || !parts.next()?.starts_with("h1:") {
                return None;
            }
            seen.insert((module.to_string(), version.to_string()))
                .then(|| Found {
                    name: module.to_string(),
                    version: Some(version.to_string()),
                })
        })
        .collect()
}

/// Every component of every lock file under `roots`.
pub fn collect(roots: &[PathBuf]) -> Vec<SwComponent> {
    let mut out = Vec::new();
    for path in find_lock_files(roots) {
        if std::fs::metadata(&path)
            .map(|m| m.len() > MAX_FILE_BYTES)
            .unwrap_or(true)
        {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let (eco, found) = match name {
            "Cargo.lock" => ("cargo", toml_packages(&text)),
            "poetry.lock" => ("pypi", toml_packages(&text)),
            "package-lock.json" => ("npm", npm_packages(&text)),
            "requirements.txt" => ("pypi", requirements(&text)),
            "go.sum" => ("golang", go_sum(&text)),
            _ => continue,
        };
        if found.is_empty() {
            tracing::warn!(file = %path.display(), "no packages read from this lock file");
        }
        out.extend(found.into_iter().map(|f| component(eco, f, &path)));
    }
    out
}

/// The SBOM a SwCA result uploads: the components under `roots`, found on `host`.
pub fn sbom(host: &str, roots: &[PathBuf]) -> Result<Value, openqps_sbom::Error> {
    let serial = uuid::Uuid::new_v4().to_string();
    let timestamp = jiff::Timestamp::now()
        .round(jiff::Unit::Second)
        .unwrap_or_default();
    let subject = openqps_sbom::Subject {
        name: host,
        bom_ref: "host",
        serial: &serial,
        timestamp: &timestamp.to_string(),
        tool: "openqps-agent",
        properties: &[],
    };
    openqps_sbom::write(openqps_sbom::SpecVersion::V1_6, &subject, &collect(roots))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lock_files() {
        let cargo = "version = 3\n\n[[package]]\nname = \"serde\"\nversion = \"1.0.200\"\n\n[[package]]\nname = \"demo\"\nversion = \"0.1.0\"\ndependencies = [\n \"serde\",\n]\n";
        let p = toml_packages(cargo);
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].name, "serde");
        assert_eq!(p[1].version.as_deref(), Some("0.1.0"));
        let npm = r#"{"lockfileVersion":3,"packages":{"":{"name":"app"},"node_modules/left-pad":{"version":"1.3.0"},"node_modules/@scope/x":{"version":"2.0.0"}}}"#;
        let p = npm_packages(npm);
        assert_eq!(p.len(), 2);
        let c = component(
            "npm",
            Found {
                name: "@scope/x".into(),
                version: Some("2.0.0".into()),
            },
            Path::new("/a"),
        );
        assert_eq!(c.purl.as_deref(), Some("pkg:npm/%40scope/x@2.0.0"));
        let r = requirements("# c\nrequests==2.31.0\nflask>=2\n-r other.txt\n");
        assert_eq!(r.len(), 2);
        assert_eq!(r[1].name, "flask");
        // pip-compile --generate-hashes, arbitrary equality, direct references and URLs.
        let r = requirements(
            "numpy==1.26.4 \\\n    --hash=sha256:abc \\\n    --hash=sha256:def\nurllib3 === 2.0.7\n\
             pkg @ https://example.com/pkg.whl\ngit+https://github.com/a/b@v1.0#egg=b\n-e git+https://x/y\n",
        );
        let got: Vec<(&str, Option<&str>)> = r
            .iter()
            .map(|f| (f.name.as_str(), f.version.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("numpy", Some("1.26.4")),
                ("urllib3", Some("2.0.7")),
                ("pkg", None)
            ]
        );
        let g = go_sum(
            "golang.org/x/text v0.3.0 h1:abc\ngolang.org/x/text v0.3.0/go.mod h1:def\nnot a go sum line\n",
        );
        assert_eq!(g.len(), 1);
    }
}
