//! Request bodies, XML or JSON, read into one small element tree so that a single decoder
//! (`request.rs`) serves both formats.

use quick_xml::events::Event;

/// One element of a request body. JSON objects become elements too: each key a child (an array
/// repeats the child), and in `Criteria` the keys `field`, `operator` and `name` become attributes
/// and `value` the text, which is how Qualys' JSON form spells them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The name of the first child element that appears more than once: where an object holds
    /// single values, a repeat (or a JSON array) is an error, not "the last one wins".
    pub fn repeated_child(&self) -> Option<&str> {
        self.children
            .iter()
            .enumerate()
            .find(|(i, c)| self.children[..*i].iter().any(|p| p.name == c.name))
            .map(|(_, c)| c.name.as_str())
    }

    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Why a body could not be read. The message is written for the person who sent it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SyntaxError(pub String);

const MAX_DEPTH: usize = 64;

/// Whether XML 1.0 allows `c` in a document (its `Char` production). Everything a client
/// writes may come back in an XML answer, so text with other characters is refused on input.
pub fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// The first character of `text` that XML 1.0 does not allow, as a message naming `place`.
pub fn forbidden_char(text: &str, place: &str) -> Option<String> {
    text.chars().find(|c| !xml_char(*c)).map(|c| {
        format!(
            "{place} contains the character U+{:04X}, which XML 1.0 does not allow.",
            u32::from(c)
        )
    })
}

/// Refuses a tree holding a character XML 1.0 does not allow, in any text or attribute.
fn check_chars(el: &Element) -> Result<(), SyntaxError> {
    let place = |what: &str| format!("{what} of <{}>", el.name);
    if let Some(m) = forbidden_char(&el.text, &place("The value")) {
        return Err(SyntaxError(m));
    }
    for (k, v) in &el.attrs {
        if let Some(m) = forbidden_char(v, &place(&format!("The attribute '{k}'"))) {
            return Err(SyntaxError(m));
        }
    }
    el.children.iter().try_for_each(check_chars)
}

/// Reads an XML document into its root element. DTDs are refused outright: Qualys requests never
/// carry one, and refusing them closes the door on entity tricks.
pub fn parse_xml(body: &[u8]) -> Result<Element, SyntaxError> {
    let body = std::str::from_utf8(body).map_err(|_| not_utf8(body))?;
    let mut reader = quick_xml::Reader::from_str(body);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let pos = reader.buffer_position();
        let event = reader.read_event().map_err(|e| {
            SyntaxError(format!("The XML is not well formed near byte {pos}: {e}."))
        })?;
        match event {
            Event::Start(start) | Event::Empty(start) if root.is_some() => {
                let _ = start;
                return Err(SyntaxError(
                    "The XML has content after its root element.".into(),
                ));
            }
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(SyntaxError("The XML is nested too deeply.".into()));
                }
                stack.push(element_from(&start)?);
            }
            Event::Empty(start) => {
                let el = element_from(&start)?;
                close(&mut stack, &mut root, el);
            }
            Event::End(_) => {
                let el = stack.pop().expect("quick-xml checks end names");
                close(&mut stack, &mut root, el);
            }
            Event::Text(t) => {
                push_text(&mut stack, &t.xml10_content())?;
            }
            Event::GeneralRef(r) => {
                let name = r.xml10_content();
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    _ => quick_xml::escape::resolve_predefined_entity(&name)
                        .map(str::to_string)
                        .ok_or_else(|| {
                            SyntaxError(format!(
                                "The XML uses the unknown entity '&{name};'; escape '&' as '&amp;'."
                            ))
                        })?,
                };
                push_text(&mut stack, &resolved)?;
            }
            Event::CData(c) => {
                push_text(&mut stack, &c.xml10_content())?;
            }
            Event::DocType(_) => {
                return Err(SyntaxError(
                    "The XML carries a DOCTYPE, which QPS requests do not allow.".into(),
                ));
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(SyntaxError(format!(
            "The XML ends before <{}> is closed.",
            stack.last().map(|e| e.name.as_str()).unwrap_or_default()
        )));
    }
    let root = root.ok_or_else(|| SyntaxError("The body has no XML element.".into()))?;
    check_chars(&root)?;
    Ok(root)
}

/// Names the declared encoding when there is one: only UTF-8 bodies are read.
fn not_utf8(body: &[u8]) -> SyntaxError {
    let head = String::from_utf8_lossy(&body[..body.len().min(200)]);
    let declared = head
        .strip_prefix("<?xml")
        .and_then(|d| d.split("?>").next())
        .and_then(|d| d.split("encoding=").nth(1))
        .and_then(|e| e.trim_start().get(1..))
        .and_then(|e| e.split(['"', '\'']).next())
        .filter(|e| !e.eq_ignore_ascii_case("utf-8"));
    SyntaxError(match declared {
        Some(e) => {
            format!("The XML declares the encoding '{e}'; only UTF-8 request bodies are supported.")
        }
        None => "The body is not valid UTF-8.".into(),
    })
}

fn element_from(start: &quick_xml::events::BytesStart<'_>) -> Result<Element, SyntaxError> {
    let name = start.name().as_ref().to_string();
    let mut attrs = Vec::new();
    for a in start.attributes() {
        let a = a.map_err(|e| SyntaxError(format!("An XML attribute is not valid: {e}.")))?;
        let key = a.key.as_ref().to_string();
        let value = a
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| SyntaxError(format!("The XML attribute '{key}' is not valid: {e}.")))?
            .into_owned();
        attrs.push((key, value));
    }
    Ok(Element {
        name,
        attrs,
        ..Element::default()
    })
}

fn push_text(stack: &mut [Element], text: &str) -> Result<(), SyntaxError> {
    match stack.last_mut() {
        Some(el) => {
            el.text.push_str(text);
            Ok(())
        }
        None if text.trim().is_empty() => Ok(()),
        None => Err(SyntaxError(
            "The body has text outside any XML element.".into(),
        )),
    }
}

fn close(stack: &mut [Element], root: &mut Option<Element>, el: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(el),
        None => *root = Some(el),
    }
}

/// Reads a JSON document (`{"ServiceRequest": {...}}`) into the same tree as its XML twin.
pub fn parse_json(body: &[u8]) -> Result<Element, SyntaxError> {
    let Unique(value) = serde_json::from_slice(body)
        .map_err(|e| SyntaxError(format!("The JSON is not well formed: {e}.")))?;
    let serde_json::Value::Object(map) = value else {
        return Err(SyntaxError(
            "The JSON body must be an object such as {\"ServiceRequest\": {...}}.".into(),
        ));
    };
    let mut entries = map.into_iter();
    match (entries.next(), entries.next()) {
        (Some((name, v)), None) => {
            let mut out = Vec::new();
            json_into(&name, v, &mut out, 0)?;
            let root = out
                .pop()
                .ok_or_else(|| SyntaxError("The JSON root must be an object.".into()))?;
            check_chars(&root)?;
            Ok(root)
        }
        _ => Err(SyntaxError(
            "The JSON body must hold exactly one key, \"ServiceRequest\".".into(),
        )),
    }
}

/// A JSON value whose objects hold each key once. serde_json keeps the last of repeated keys,
/// which would let `"data"` or `"name"` given twice silently win; XML bodies refuse repeats, and
/// so does this.
struct Unique(serde_json::Value);

impl<'de> serde::Deserialize<'de> for Unique {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Unique, D::Error> {
        d.deserialize_any(UniqueVisitor).map(Unique)
    }
}

struct UniqueVisitor;

impl<'de> serde::de::Visitor<'de> for UniqueVisitor {
    type Value = serde_json::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }

    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Unique(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(serde_json::Value::Array(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(serde::de::Error::custom(format!(
                    "the key \"{key}\" appears more than once in one object"
                )));
            }
            let Unique(v) = map.next_value()?;
            out.insert(key, v);
        }
        Ok(serde_json::Value::Object(out))
    }
}

fn json_into(
    name: &str,
    v: serde_json::Value,
    out: &mut Vec<Element>,
    depth: usize,
) -> Result<(), SyntaxError> {
    use serde_json::Value as J;
    if depth >= MAX_DEPTH {
        return Err(SyntaxError("The JSON is nested too deeply.".into()));
    }
    match v {
        J::Array(items) => {
            for item in items {
                json_into(name, item, out, depth + 1)?;
            }
        }
        J::Object(map) => {
            let mut el = Element {
                name: name.to_string(),
                ..Element::default()
            };
            let criteria = name == "Criteria";
            for (k, v) in map {
                if criteria && matches!(k.as_str(), "field" | "operator" | "name" | "value") {
                    let text = json_scalar(&v).ok_or_else(|| {
                        SyntaxError(format!("The Criteria key \"{k}\" must be a string."))
                    })?;
                    if k == "value" {
                        el.text = text;
                    } else {
                        el.attrs.push((k, text));
                    }
                } else {
                    json_into(&k, v, &mut el.children, depth + 1)?;
                }
            }
            out.push(el);
        }
        J::Null => out.push(Element {
            name: name.to_string(),
            ..Element::default()
        }),
        scalar => out.push(Element {
            name: name.to_string(),
            text: json_scalar(&scalar).unwrap_or_default(),
            ..Element::default()
        }),
    }
    Ok(())
}

fn json_scalar(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        serde_json::Value::Null => Some(String::new()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_criteria_with_cdata_and_entities() {
        let el = parse_xml(
            br#"<?xml version="1.0"?><ServiceRequest><filters><Criteria field="name" operator="CONTAINS">a &amp; <![CDATA[<b>]]>&#33;</Criteria></filters></ServiceRequest>"#,
        )
        .unwrap();
        let c = el.child("filters").unwrap().child("Criteria").unwrap();
        assert_eq!(c.attr("field"), Some("name"));
        assert_eq!(c.text, "a & <b>!");
    }

    #[test]
    fn refuses_broken_or_hostile_xml() {
        assert!(parse_xml(b"<ServiceRequest><filters></ServiceRequest>").is_err());
        assert!(parse_xml(b"<a/><b/>").is_err());
        assert!(parse_xml(b"<a>x & y</a>").is_err());
        assert!(
            parse_xml(b"<!DOCTYPE a [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><a>&x;</a>")
                .is_err()
        );
        assert!(parse_xml(b"").is_err());
        let e = parse_xml(b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>caf\xe9</a>")
            .unwrap_err()
            .0;
        assert!(
            e.contains("'ISO-8859-1'") && e.contains("only UTF-8"),
            "{e}"
        );
        assert_eq!(
            parse_xml(b"<a>caf\xe9</a>").unwrap_err().0,
            "The body is not valid UTF-8."
        );
        // Characters XML 1.0 does not allow, raw or as references, in text or attributes.
        for bad in [
            &b"<a>x&#1;y</a>"[..],
            b"<a>x\x01y</a>",
            b"<a><b k=\"&#2;\"/></a>",
            b"<a>&#xFFFF;</a>",
        ] {
            let e = parse_xml(bad).unwrap_err().0;
            assert!(e.contains("XML 1.0 does not allow"), "{e}");
        }
        assert!(parse_xml("<a>tab\t, \u{10FFFF} and \u{E000}</a>".as_bytes()).is_ok());
        let e = parse_json(br#"{"ServiceRequest":{"data":{"Tag":{"name":"ctl\u0001"}}}}"#)
            .unwrap_err()
            .0;
        assert!(e.contains("U+0001") && e.contains("<name>"), "{e}");
        // A key given twice in one object is refused, as a repeated XML element is.
        for dup in [
            &br#"{"ServiceRequest":{"data":{"Tag":{"name":"j1"}},"data":{"Tag":{"name":"j2"}}}}"#[..],
            br#"{"ServiceRequest":{"data":{"Tag":{"name":"j1","name":"j2"}}}}"#,
        ] {
            let e = parse_json(dup).unwrap_err().0;
            assert!(e.contains("appears more than once"), "{e}");
        }
        // Arrays (a repeated element's JSON form) and numbers still read.
        assert!(parse_json(br#"{"ServiceRequest":{"a":[1,2.5,-3,true,null,"x"]}}"#).is_ok());
    }

    #[test]
    fn json_matches_xml() {
        let j = parse_json(
            br#"{"ServiceRequest":{"filters":{"Criteria":[{"field":"id","operator":"IN","value":"1,2"},{"field":"name","operator":"EQUALS","value":"x"}]},"preferences":{"limitResults":"5"}}}"#,
        )
        .unwrap();
        let x = parse_xml(
            br#"<ServiceRequest><filters><Criteria field="id" operator="IN">1,2</Criteria><Criteria field="name" operator="EQUALS">x</Criteria></filters><preferences><limitResults>5</limitResults></preferences></ServiceRequest>"#,
        )
        .unwrap();
        assert_eq!(j, x);
    }
}
