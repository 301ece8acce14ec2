//! The agent control protocol's JSON (`/agent/v1/…`, docs/agent-protocol.md): flat objects in,
//! small objects out. Not QPS: no envelope, plain HTTP status codes.

use serde_json::{Map, Value};

/// A value of an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    Text(String),
    Int(i64),
    Bool(bool),
    Null,
    Texts(Vec<String>),
    Object(Vec<(&'static str, Field)>),
}

impl Field {
    fn to_value(&self) -> Value {
        match self {
            Field::Text(s) => Value::String(s.clone()),
            Field::Int(i) => Value::from(*i),
            Field::Bool(b) => Value::Bool(*b),
            Field::Null => Value::Null,
            Field::Texts(v) => Value::Array(v.iter().cloned().map(Value::String).collect()),
            Field::Object(pairs) => object(pairs),
        }
    }
}

fn object(pairs: &[(&'static str, Field)]) -> Value {
    let mut m = Map::new();
    for (k, v) in pairs {
        m.insert((*k).to_string(), v.to_value());
    }
    Value::Object(m)
}

/// `{"k": v, …}` as text.
pub fn write(pairs: &[(&'static str, Field)]) -> String {
    object(pairs).to_string()
}

/// A request body: a JSON object whose members are strings, numbers or booleans, read as text.
/// An empty body is an empty object.
pub fn read(body: &[u8]) -> Result<Vec<(String, String)>, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    let v: Value =
        serde_json::from_slice(body).map_err(|e| format!("The body is not valid JSON: {e}."))?;
    let Value::Object(m) = v else {
        return Err("The body must be a JSON object.".into());
    };
    m.into_iter()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k, s)),
            Value::Number(n) => Ok((k, n.to_string())),
            Value::Bool(b) => Ok((k, b.to_string())),
            Value::Null => Ok((k, String::new())),
            _ => Err(format!("'{k}' must be a string, number or boolean.")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_flat_objects_and_writes_nested_ones() {
        let r = read(br#"{"a":"x","n":3,"b":true}"#).unwrap();
        assert!(r.contains(&("n".into(), "3".into())));
        assert!(read(b"[1]").is_err());
        assert!(read(br#"{"a":{"b":1}}"#).is_err());
        assert_eq!(read(b"  ").unwrap(), vec![]);
        let out = write(&[("job", Field::Object(vec![("id", Field::Int(1))]))]);
        assert_eq!(out, r#"{"job":{"id":1}}"#);
    }
}
