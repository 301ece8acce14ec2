//! CycloneDX SBOMs of SwCA results.
//!
//! Written and read with `serde-cyclonedx`, whose types are generated from the official
//! CycloneDX JSON schemas: what serializes here has the schema's shape, and what does not
//! deserialize is not CycloneDX of the version it claims. The agent writes one BOM per SwCA
//! scan; the server reads it into components and writes it again in the version a client asks
//! for. The three schema versions are three sets of types with the same field names, so the
//! code that fills or reads them is one macro expanded per version.

use openqps_model::SwComponent;
use serde_cyclonedx::cyclonedx::{v_1_4, v_1_5, v_1_6};
use serde_json::Value;
use std::collections::HashSet;

/// Property names openqps puts on each component (CycloneDX properties are free-form).
pub const ECOSYSTEM: &str = "openqps:ecosystem";
pub const PATH: &str = "openqps:path";

/// The CycloneDX spec versions openqps writes and reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecVersion {
    V1_4,
    V1_5,
    V1_6,
}

impl SpecVersion {
    /// `1.4`, `1.5`, `1.6`: the document's `specVersion`.
    pub fn as_str(self) -> &'static str {
        match self {
            SpecVersion::V1_4 => "1.4",
            SpecVersion::V1_5 => "1.5",
            SpecVersion::V1_6 => "1.6",
        }
    }

    pub fn from_spec(s: &str) -> Option<SpecVersion> {
        match s {
            "1.4" => Some(SpecVersion::V1_4),
            "1.5" => Some(SpecVersion::V1_5),
            "1.6" => Some(SpecVersion::V1_6),
            _ => None,
        }
    }
}

/// What a BOM describes (the machine its components were found on) and who wrote it.
#[derive(Debug, Clone)]
pub struct Subject<'a> {
    /// The host name; `metadata.component` of type `device`.
    pub name: &'a str,
    pub bom_ref: &'a str,
    /// A UUID; the document's `serialNumber` is `urn:uuid:{serial}`.
    pub serial: &'a str,
    /// RFC 3339, `metadata.timestamp`.
    pub timestamp: &'a str,
    /// The tool that wrote the BOM (`openqps`, `openqps-agent`).
    pub tool: &'a str,
    /// Extra `metadata.properties`, such as `openqps:swcaJobId`.
    pub properties: &'a [(&'a str, String)],
}

/// Why a BOM could not be written or read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

fn built<E: std::fmt::Display>(e: E) -> Error {
    Error(format!("CycloneDX: {e}"))
}

/// A `bom-ref` unique within the document: the purl, else name@version, suffixed on repeats.
fn unique_ref(seen: &mut HashSet<String>, c: &SwComponent, i: usize) -> String {
    let r = c.purl.clone().unwrap_or_else(|| match &c.version {
        Some(v) => format!("{}@{v}", c.name),
        None => c.name.clone(),
    });
    if seen.insert(r.clone()) {
        r
    } else {
        let r = format!("{r}#{i}");
        seen.insert(r.clone());
        r
    }
}

/// `name` is `Option<String>` in 1.4 and 1.5 and `String` in 1.6.
trait PropertyName {
    fn get(&self) -> Option<&str>;
}

impl PropertyName for String {
    fn get(&self) -> Option<&str> {
        Some(self)
    }
}

impl PropertyName for Option<String> {
    fn get(&self) -> Option<&str> {
        self.as_deref()
    }
}

/// `pkg:cargo/serde@1.0.0` → `cargo`: the ecosystem of a component that names none.
fn purl_type(purl: &str) -> Option<String> {
    let rest = purl.strip_prefix("pkg:")?;
    let (ty, _) = rest.split_once('/')?;
    (!ty.is_empty()).then(|| ty.to_ascii_lowercase())
}

/// Writes a whole document of one schema version (`$v` is its module).
macro_rules! write_bom {
    ($v:ident, $spec:expr, $subject:expr, $components:expr, $tools:expr) => {{
        let subject: &Subject = $subject;
        let mut seen = HashSet::new();
        let property = |name: &str, value: &str| {
            $v::PropertyBuilder::default()
                .name(name)
                .value(value)
                .build()
                .map_err(built)
        };
        let mut components = Vec::with_capacity($components.len());
        for (i, c) in $components.iter().enumerate() {
            let mut props = Vec::new();
            if let Some(e) = &c.ecosystem {
                props.push(property(ECOSYSTEM, e)?);
            }
            if let Some(p) = &c.path {
                props.push(property(PATH, p)?);
            }
            let mut b = $v::ComponentBuilder::default();
            b.type_("library")
                .name(c.name.as_str())
                .bom_ref(unique_ref(&mut seen, c, i));
            if let Some(v) = &c.version {
                b.version(v.as_str());
            }
            if let Some(p) = &c.purl {
                b.purl(p.as_str());
            }
            if !props.is_empty() {
                b.properties(props);
            }
            components.push(b.build().map_err(built)?);
        }
        let device = $v::ComponentBuilder::default()
            .type_("device")
            .name(subject.name)
            .bom_ref(subject.bom_ref)
            .build()
            .map_err(built)?;
        let mut metadata = $v::MetadataBuilder::default();
        metadata
            .timestamp(subject.timestamp)
            .tools($tools)
            .component(device);
        if !subject.properties.is_empty() {
            metadata.properties(
                subject
                    .properties
                    .iter()
                    .map(|(n, v)| property(n, v))
                    .collect::<Result<Vec<_>, Error>>()?,
            );
        }
        let bom = $v::CycloneDxBuilder::default()
            .schema(format!(
                "http://cyclonedx.org/schema/bom-{}.schema.json",
                $spec.as_str()
            ))
            .bom_format("CycloneDX")
            .spec_version($spec.as_str())
            .serial_number(format!("urn:uuid:{}", subject.serial))
            .version(1)
            .metadata(metadata.build().map_err(built)?)
            .components(components)
            .build()
            .map_err(built)?;
        serde_json::to_value(&bom).map_err(built)
    }};
}

/// 1.5 and 1.6 list tools as `{"components": [...]}`; the array of 1.4 is deprecated there.
macro_rules! tool_components {
    ($v:ident, $subject:expr) => {
        $v::MetadataTools::Variant0(
            $v::MetadataToolsVariant0Builder::default()
                .components(vec![
                    $v::ComponentBuilder::default()
                        .type_("application")
                        .name($subject.tool)
                        .version(TOOL_VERSION)
                        .build()
                        .map_err(built)?,
                ])
                .build()
                .map_err(built)?,
        )
    };
}

const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The SBOM of `components` found on `subject`, as a CycloneDX JSON document of `version`.
pub fn write(
    version: SpecVersion,
    subject: &Subject,
    components: &[SwComponent],
) -> Result<Value, Error> {
    match version {
        SpecVersion::V1_4 => {
            let tool = v_1_4::ToolBuilder::default()
                .vendor("openqps")
                .name(subject.tool)
                .version(TOOL_VERSION)
                .build()
                .map_err(built)?;
            write_bom!(v_1_4, version, subject, components, vec![tool])
        }
        SpecVersion::V1_5 => {
            write_bom!(
                v_1_5,
                version,
                subject,
                components,
                tool_components!(v_1_5, subject)
            )
        }
        SpecVersion::V1_6 => {
            write_bom!(
                v_1_6,
                version,
                subject,
                components,
                tool_components!(v_1_6, subject)
            )
        }
    }
}

/// Reads the components of one schema version's document, nested ones included.
macro_rules! read_components {
    ($v:ident, $spec:expr, $doc:expr) => {{
        let bom: $v::CycloneDx = serde_json::from_value($doc)
            .map_err(|e| Error(format!("not a CycloneDX {} document: {e}", $spec.as_str())))?;
        let mut out = Vec::new();
        let mut stack: Vec<$v::Component> = bom.components.unwrap_or_default();
        stack.reverse();
        while let Some(c) = stack.pop() {
            let prop = |key: &str| {
                c.properties.iter().flatten().find_map(|p| {
                    (PropertyName::get(&p.name) == Some(key))
                        .then(|| p.value.clone())
                        .flatten()
                })
            };
            let ecosystem = prop(ECOSYSTEM).or_else(|| c.purl.as_deref().and_then(purl_type));
            let path = prop(PATH);
            out.push(SwComponent {
                name: c.name,
                version: c.version,
                purl: c.purl,
                ecosystem,
                path,
            });
            if let Some(mut inner) = c.components {
                inner.reverse();
                stack.extend(inner);
            }
        }
        Ok(out)
    }};
}

/// The components of a CycloneDX JSON document of spec 1.4, 1.5 or 1.6 (nested components
/// flattened in document order). Anything else is refused with a reason a client can act on.
pub fn read(doc: Value) -> Result<Vec<SwComponent>, Error> {
    if doc.get("bomFormat").and_then(Value::as_str) != Some("CycloneDX") {
        return Err(Error("'bomFormat' must be \"CycloneDX\".".into()));
    }
    let spec = doc
        .get("specVersion")
        .and_then(Value::as_str)
        .ok_or_else(|| Error("'specVersion' is required.".into()))?;
    match SpecVersion::from_spec(spec) {
        Some(v @ SpecVersion::V1_4) => read_components!(v_1_4, v, doc),
        Some(v @ SpecVersion::V1_5) => read_components!(v_1_5, v, doc),
        Some(v @ SpecVersion::V1_6) => read_components!(v_1_6, v, doc),
        None => Err(Error(format!(
            "specVersion '{spec}' is not supported; send 1.4, 1.5 or 1.6."
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn serde() -> SwComponent {
        SwComponent {
            name: "serde".into(),
            version: Some("1.0.200".into()),
            purl: Some("pkg:cargo/serde@1.0.200".into()),
            ecosystem: Some("cargo".into()),
            path: Some("/srv/Cargo.lock".into()),
        }
    }

    fn subject<'a>(props: &'a [(&'a str, String)]) -> Subject<'a> {
        Subject {
            name: "build-01",
            bom_ref: "asset-42",
            serial: "00000000-0000-4000-8000-000000000000",
            timestamp: "2026-01-02T03:04:05Z",
            tool: "openqps",
            properties: props,
        }
    }

    #[test]
    fn writes_1_4_as_the_schema_has_it() {
        let props = [("openqps:swcaJobId", "7".to_string())];
        let d = write(SpecVersion::V1_4, &subject(&props), &[serde()]).unwrap();
        let want = json!({
            "$schema": "http://cyclonedx.org/schema/bom-1.4.schema.json",
            "bomFormat": "CycloneDX",
            "components": [{"bom-ref": "pkg:cargo/serde@1.0.200", "name": "serde",
                "properties": [{"name": "openqps:ecosystem", "value": "cargo"},
                               {"name": "openqps:path", "value": "/srv/Cargo.lock"}],
                "purl": "pkg:cargo/serde@1.0.200", "type": "library", "version": "1.0.200"}],
            "metadata": {
                "component": {"bom-ref": "asset-42", "name": "build-01", "type": "device"},
                "properties": [{"name": "openqps:swcaJobId", "value": "7"}],
                "timestamp": "2026-01-02T03:04:05Z",
                "tools": [{"name": "openqps", "vendor": "openqps", "version": TOOL_VERSION}]},
            "serialNumber": "urn:uuid:00000000-0000-4000-8000-000000000000",
            "specVersion": "1.4",
            "version": 1
        });
        assert_eq!(d, want);
    }

    #[test]
    fn writes_tools_as_components_from_1_5_on() {
        for v in [SpecVersion::V1_5, SpecVersion::V1_6] {
            let d = write(v, &subject(&[]), &[serde()]).unwrap();
            assert_eq!(d["specVersion"], v.as_str());
            assert_eq!(d["metadata"]["tools"]["components"][0]["name"], "openqps");
            assert_eq!(
                d["metadata"]["tools"]["components"][0]["type"],
                "application"
            );
            assert!(d["metadata"].get("properties").is_none(), "{d}");
        }
    }

    #[test]
    fn every_version_reads_back_what_it_wrote() {
        let bare = SwComponent {
            name: "left-pad".into(),
            version: None,
            purl: None,
            ecosystem: None,
            path: None,
        };
        let twice = vec![serde(), serde(), bare];
        for v in [SpecVersion::V1_4, SpecVersion::V1_5, SpecVersion::V1_6] {
            let d = write(v, &subject(&[]), &twice).unwrap();
            let refs: HashSet<&str> = d["components"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["bom-ref"].as_str().unwrap())
                .collect();
            assert_eq!(refs.len(), 3, "bom-refs must be unique: {d}");
            assert_eq!(read(d).unwrap(), twice, "{v:?}");
        }
    }

    #[test]
    fn reads_foreign_boms_with_nested_components() {
        let doc = json!({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
            "components": [
                {"type": "application", "name": "app", "components": [
                    {"type": "library", "name": "express", "version": "4.19.2",
                     "purl": "pkg:npm/express@4.19.2"}]},
                {"type": "library", "name": "requests", "purl": "pkg:pypi/requests@2.32.3"}]});
        let got = read(doc).unwrap();
        let names: Vec<(&str, Option<&str>)> = got
            .iter()
            .map(|c| (c.name.as_str(), c.ecosystem.as_deref()))
            .collect();
        assert_eq!(
            names,
            [
                ("app", None),
                ("express", Some("npm")),
                ("requests", Some("pypi"))
            ]
        );
    }

    #[test]
    fn refuses_what_is_not_cyclonedx() {
        let err = |d: Value| read(d).unwrap_err().0;
        assert!(err(json!({"specVersion": "1.6"})).contains("bomFormat"));
        assert!(err(json!({"bomFormat": "CycloneDX"})).contains("specVersion"));
        assert!(
            err(json!({"bomFormat": "CycloneDX", "specVersion": "1.2", "version": 1}))
                .contains("1.2")
        );
        // A component without its required name, and a wrongly typed list, fail the schema types.
        let e = err(
            json!({"bomFormat": "CycloneDX", "specVersion": "1.4", "version": 1,
            "components": [{"type": "library"}]}),
        );
        assert!(e.contains("not a CycloneDX 1.4 document"), "{e}");
        assert!(e.contains("name"), "{e}");
        let e = err(
            json!({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
            "components": {"name": "x"}}),
        );
        assert!(e.contains("not a CycloneDX 1.6 document"), "{e}");
    }
}
