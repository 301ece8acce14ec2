//! The response tree: what handlers' results become before they are written as XML or JSON.
//! One tree, two writers, so the two formats cannot drift apart.

use jiff::Timestamp;
use serde_json::{Map, Value as J};

#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// `<name>children</name>`; a JSON object.
    Elem(&'static str, Vec<Node>),
    /// `<name>value</name>`; a JSON scalar.
    Leaf(&'static str, Leaf),
    /// `<list>items</list>`; in JSON `"list": [{"Item": {…}}, …]`.
    List(Vec<Node>),
    /// `<name a="v">value</name>`, a leaf with attributes (WAS `UrlEntry regex="…"`); in JSON
    /// an object of the attributes plus `"value"`, as Criteria are spelled.
    Attributed(&'static str, Vec<(&'static str, String)>, Leaf),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Leaf {
    Int(i64),
    Text(String),
    /// Text Qualys writes as CDATA (names and URLs of web apps).
    Cdata(String),
    Bool(bool),
    Time(Timestamp),
}

impl Node {
    pub fn int(name: &'static str, v: i64) -> Node {
        Node::Leaf(name, Leaf::Int(v))
    }
    pub fn text(name: &'static str, v: impl Into<String>) -> Node {
        Node::Leaf(name, Leaf::Text(v.into()))
    }
    pub fn cdata(name: &'static str, v: impl Into<String>) -> Node {
        Node::Leaf(name, Leaf::Cdata(v.into()))
    }
    pub fn bool(name: &'static str, v: bool) -> Node {
        Node::Leaf(name, Leaf::Bool(v))
    }
    pub fn time(name: &'static str, v: Timestamp) -> Node {
        Node::Leaf(name, Leaf::Time(v))
    }
    /// `<name><list>items</list></name>`, the QList shape of Asset Management.
    pub fn list(name: &'static str, items: Vec<Node>) -> Node {
        Node::Elem(name, vec![Node::List(items)])
    }

    /// The element name (`list` for a list body).
    pub fn name(&self) -> &'static str {
        match self {
            Node::Elem(n, _) | Node::Leaf(n, _) | Node::Attributed(n, _, _) => n,
            Node::List(_) => "list",
        }
    }
}

/// Pushes optional leaves without a wall of `if let`s.
pub trait PushOpt {
    fn opt_text(&mut self, name: &'static str, v: &Option<String>);
    fn opt_int(&mut self, name: &'static str, v: Option<i64>);
    fn opt_time(&mut self, name: &'static str, v: Option<Timestamp>);
}

impl PushOpt for Vec<Node> {
    fn opt_text(&mut self, name: &'static str, v: &Option<String>) {
        if let Some(v) = v {
            self.push(Node::text(name, v.clone()));
        }
    }
    fn opt_int(&mut self, name: &'static str, v: Option<i64>) {
        if let Some(v) = v {
            self.push(Node::int(name, v));
        }
    }
    fn opt_time(&mut self, name: &'static str, v: Option<Timestamp>) {
        if let Some(v) = v {
            self.push(Node::time(name, v));
        }
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ`, UTC, no fraction: the only date form Qualys writes.
pub fn format_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

// ---- XML ------------------------------------------------------------------------------------

/// `v` with each character XML 1.0 does not allow replaced by U+FFFD. Input with them is
/// refused, but data that predates that check must still make a well-formed answer.
fn xml_safe(v: &str) -> std::borrow::Cow<'_, str> {
    if v.chars().all(crate::tree::xml_char) {
        std::borrow::Cow::Borrowed(v)
    } else {
        v.chars()
            .map(|c| {
                if crate::tree::xml_char(c) {
                    c
                } else {
                    '\u{FFFD}'
                }
            })
            .collect::<String>()
            .into()
    }
}

/// Appends escaped text: full escaping, as recorded Qualys errors write apostrophes as `&apos;`.
fn push_escaped(out: &mut String, v: &str) {
    out.push_str(&quick_xml::escape::escape(xml_safe(v).as_ref()));
}

fn write_leaf(out: &mut String, leaf: &Leaf) {
    match leaf {
        Leaf::Int(v) => out.push_str(&v.to_string()),
        Leaf::Text(v) => push_escaped(out, v),
        Leaf::Cdata(v) => write_cdata(out, &xml_safe(v)),
        Leaf::Bool(v) => out.push_str(if *v { "true" } else { "false" }),
        Leaf::Time(v) => out.push_str(&format_time(*v)),
    }
}

fn leaf_json(leaf: &Leaf) -> J {
    match leaf {
        Leaf::Int(v) => J::from(*v),
        Leaf::Text(v) | Leaf::Cdata(v) => J::from(v.as_str()),
        // Qualys JSON writes booleans as strings ("hasMoreRecords": "true").
        Leaf::Bool(v) => J::from(if *v { "true" } else { "false" }),
        Leaf::Time(v) => J::from(format_time(*v)),
    }
}

pub(crate) fn write_xml(out: &mut String, node: &Node, depth: usize) {
    indent(out, depth);
    match node {
        Node::Attributed(name, attrs, leaf) => {
            out.push('<');
            out.push_str(name);
            for (k, v) in attrs {
                out.push(' ');
                out.push_str(k);
                out.push_str("=\"");
                push_escaped(out, v);
                out.push('"');
            }
            out.push('>');
            write_leaf(out, leaf);
            out.push_str("</");
            out.push_str(name);
            out.push_str(">\n");
        }
        Node::Leaf(name, leaf) => {
            out.push('<');
            out.push_str(name);
            out.push('>');
            write_leaf(out, leaf);
            out.push_str("</");
            out.push_str(name);
            out.push_str(">\n");
        }
        Node::Elem(_, children) | Node::List(children) if children.is_empty() => {
            let name = node.name();
            out.push('<');
            out.push_str(name);
            out.push_str("/>\n");
        }
        Node::Elem(_, children) | Node::List(children) => {
            let name = node.name();
            out.push('<');
            out.push_str(name);
            out.push_str(">\n");
            for c in children {
                write_xml(out, c, depth + 1);
            }
            indent(out, depth);
            out.push_str("</");
            out.push_str(name);
            out.push_str(">\n");
        }
    }
}

fn write_cdata(out: &mut String, v: &str) {
    out.push_str("<![CDATA[");
    // `]]>` cannot appear inside CDATA: split it across two sections.
    out.push_str(&v.replace("]]>", "]]]]><![CDATA[>"));
    out.push_str("]]>");
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("  ");
    }
}

// ---- JSON -----------------------------------------------------------------------------------

/// The JSON value of a node's content (without its name).
pub(crate) fn to_json(node: &Node) -> J {
    match node {
        Node::Leaf(_, leaf) => leaf_json(leaf),
        Node::Attributed(_, attrs, leaf) => {
            let mut map = Map::new();
            for (k, v) in attrs {
                map.insert(k.to_string(), J::from(v.as_str()));
            }
            map.insert("value".to_string(), leaf_json(leaf));
            J::Object(map)
        }
        Node::Elem(_, children) => {
            let mut map = Map::new();
            for c in children {
                map.insert(c.name().to_string(), to_json(c));
            }
            J::Object(map)
        }
        Node::List(items) => J::Array(items.iter().map(keyed).collect()),
    }
}

/// `{"Name": {…}}`, the single-key object Qualys JSON uses for every item of `data` and `list`.
pub(crate) fn keyed(node: &Node) -> J {
    let mut map = Map::new();
    map.insert(node.name().to_string(), to_json(node));
    J::Object(map)
}
