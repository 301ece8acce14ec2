//! Checking raw criteria against a field registry.

use crate::{Condition, FieldDef, FieldType, Filter, Operator, RawCriterion, Value};

/// At most this many criteria in one request: real clients send a handful, and a bound keeps
/// every query small enough to plan and run.
pub const MAX_CRITERIA: usize = 100;
/// At most this many values in the `IN` lists of one request (clients batch ids by 1000); it keeps statements
/// under the databases' bound-parameter limits.
pub const MAX_IN_VALUES: usize = 10_000;
/// At most this many characters in one criteria value.
pub const MAX_VALUE_CHARS: usize = 4_096;

/// Why a set of criteria was refused. Each renders the message and resolution a client sees.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CriteriaError {
    #[error("Criteria: {count} criteria in one request; at most {MAX_CRITERIA} are accepted.")]
    TooMany { count: usize },
    #[error("Criteria: the value for criteria '{field}' is too long ({detail}).")]
    TooLong { field: String, detail: String },
    #[error("Criteria: '{field}' is not a searchable field of {object}.")]
    UnknownField {
        object: &'static str,
        field: String,
        known: Vec<&'static str>,
    },
    #[error("Criteria: Invalid operator '{operator}' for criteria '{field}'.")]
    BadOperator {
        field: String,
        operator: String,
        allowed: &'static [Operator],
    },
    #[error("Criteria: the criteria '{field}' needs a 'name' attribute.")]
    MissingName { field: String },
    #[error("Criteria: Invalid value format for criteria '{field}' ({value}).")]
    BadValue {
        field: String,
        value: String,
        ty: FieldType,
    },
}

impl CriteriaError {
    /// What the client can do about it (`errorResolution`).
    pub fn resolution(&self) -> String {
        match self {
            CriteriaError::TooMany { .. } => {
                "Combine values with IN, or split the request.".to_string()
            }
            CriteriaError::TooLong { .. } => format!(
                "Send at most {MAX_VALUE_CHARS} characters per value and {MAX_IN_VALUES} values per IN list; split larger requests."
            ),
            CriteriaError::UnknownField { known, .. } => {
                format!("Use one of these fields: {}.", known.join(", "))
            }
            CriteriaError::MissingName { field } => format!(
                "Name the attribute to compare: <Criteria field=\"{field}\" name=\"…\" operator=\"…\">."
            ),
            CriteriaError::BadOperator { allowed, .. } => format!(
                "Operators allowed for this field: {}.",
                allowed
                    .iter()
                    .map(|o| o.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            CriteriaError::BadValue { ty, .. } => match ty {
                FieldType::Integer => "Specify criteria value(s) as Long.".to_string(),
                FieldType::Boolean => "Values expected: true, false.".to_string(),
                FieldType::Date => {
                    "Specify criteria value(s) as a date: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ."
                        .to_string()
                }
                FieldType::Keyword(k) => format!("Values expected: {}.", k.values.join(", ")),
                FieldType::Text => "Specify criteria value(s) as text.".to_string(),
            },
        }
    }
}

/// Checks every criterion against `registry` and types its value. Values are trimmed; `IN` takes
/// a comma-separated list.
pub fn compile<F: Copy>(
    object: &'static str,
    registry: &[FieldDef<F>],
    raw: &[RawCriterion],
) -> Result<Filter<F>, CriteriaError> {
    if raw.len() > MAX_CRITERIA {
        return Err(CriteriaError::TooMany { count: raw.len() });
    }
    let mut conditions = Vec::with_capacity(raw.len());
    let mut in_values = 0;
    for c in raw {
        let field_name = c.field.trim();
        let def = registry
            .iter()
            .find(|d| d.name == field_name)
            .ok_or_else(|| CriteriaError::UnknownField {
                object,
                field: field_name.to_string(),
                known: registry.iter().map(|d| d.name).collect(),
            })?;
        let op = Operator::parse(&c.operator)
            .filter(|op| def.operators.contains(op))
            .ok_or_else(|| CriteriaError::BadOperator {
                field: def.name.to_string(),
                operator: c.operator.trim().to_string(),
                allowed: def.operators,
            })?;
        let name = match c.name.as_deref().map(str::trim) {
            Some(n) if def.named && !n.is_empty() => Some(n.to_string()),
            _ if def.named => {
                return Err(CriteriaError::MissingName {
                    field: def.name.to_string(),
                });
            }
            _ => None,
        };
        let text = normalize(&c.value);
        let chars = text.chars().count();
        let values = text.split(',').count();
        if chars > MAX_VALUE_CHARS && !(op == Operator::In && values <= MAX_IN_VALUES) {
            return Err(CriteriaError::TooLong {
                field: def.name.to_string(),
                detail: format!("{chars} characters"),
            });
        }
        if op == Operator::In {
            in_values += values;
        }
        if op == Operator::In && in_values > MAX_IN_VALUES {
            return Err(CriteriaError::TooLong {
                field: def.name.to_string(),
                detail: format!("{values} values in IN"),
            });
        }
        let value = typed_value(def.ty, op, &text).ok_or_else(|| CriteriaError::BadValue {
            field: def.name.to_string(),
            value: text.clone(),
            ty: def.ty,
        })?;
        conditions.push(Condition {
            target: def.target,
            op,
            value,
            name,
        });
    }
    Ok(Filter { conditions })
}

/// Trims the value and reads each line break (with the blanks around it) as one space: Qualys'
/// own samples wrap long values across lines (`Cloud\nAgent`), and no name holds a line break.
fn normalize(v: &str) -> String {
    let v = v.trim();
    if !v.contains(['\n', '\r', '\t']) {
        return v.to_string();
    }
    let mut out = String::with_capacity(v.len());
    for (i, part) in v
        .split(['\n', '\r', '\t'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .enumerate()
    {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(part);
    }
    out
}

fn typed_value(ty: FieldType, op: Operator, v: &str) -> Option<Value> {
    if op == Operator::None {
        return Some(Value::Nothing);
    }
    let list = || v.split(',').map(str::trim);
    match ty {
        FieldType::Integer if op == Operator::In => list()
            .map(|s| s.parse::<i64>().ok())
            .collect::<Option<Vec<_>>>()
            .map(Value::Ints),
        FieldType::Integer => v.parse::<i64>().ok().map(Value::Int),
        FieldType::Text => Some(Value::Text(v.to_string())),
        FieldType::Keyword(k) if op == Operator::In => list()
            .map(|s| k.canonical(s).map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .map(Value::Texts),
        FieldType::Keyword(k) => k.canonical(v).map(|s| Value::Text(s.to_string())),
        FieldType::Date => {
            crate::parse_time_range(v).map(|(start, end)| Value::Time { start, end })
        }
        FieldType::Boolean => match v.to_ascii_lowercase().as_str() {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::{HOSTASSET, HostField};

    fn raw(field: &str, op: &str, value: &str) -> RawCriterion {
        RawCriterion {
            field: field.into(),
            operator: op.into(),
            value: value.into(),
            name: None,
        }
    }

    #[test]
    fn trims_and_types_values() {
        let f = compile(
            "HostAsset",
            HOSTASSET,
            &[
                raw("qwebHostId", "IN", " 1, 2 ,3\n"),
                raw("tagName", "EQUALS", "Cloud\n  Agent\n  "),
                raw("trackingMethod", "EQUALS", "BMC_HELIX"),
            ],
        )
        .unwrap();
        assert_eq!(f.conditions[0].target, HostField::QwebHostId);
        assert_eq!(f.conditions[0].value, Value::Ints(vec![1, 2, 3]));
        assert_eq!(f.conditions[1].value, Value::Text("Cloud Agent".into()));
        assert_eq!(f.conditions[2].value, Value::Text("BMC Helix".into()));
    }

    #[test]
    fn named_fields_need_and_keep_their_name() {
        use crate::fields::{WEBAPP, WebAppField};
        let mut c = raw("attributes", "EQUALS", "Blue");
        assert!(matches!(
            compile("WebApp", WEBAPP, std::slice::from_ref(&c)),
            Err(CriteriaError::MissingName { .. })
        ));
        c.name = Some(" Team ".into());
        let f = compile("WebApp", WEBAPP, &[c]).unwrap();
        assert_eq!(f.conditions[0].target, WebAppField::Attribute);
        assert_eq!(f.conditions[0].name.as_deref(), Some("Team"));
        // Elsewhere a name is ignored.
        let mut n = raw("name", "EQUALS", "x");
        n.name = Some("ignored".into());
        let f = compile("WebApp", WEBAPP, &[n]).unwrap();
        assert_eq!(f.conditions[0].name, None);
        // tags takes NONE only.
        assert!(compile("WebApp", WEBAPP, &[raw("tags", "NONE", "")]).is_ok());
        assert!(matches!(
            compile("WebApp", WEBAPP, &[raw("tags", "EQUALS", "1")]),
            Err(CriteriaError::BadOperator { .. })
        ));
    }

    #[test]
    fn refuses_what_qualys_refuses() {
        let e = compile("HostAsset", HOSTASSET, &[raw("qwebHostId", "IN", "abc123")]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Criteria: Invalid value format for criteria 'qwebHostId' (abc123)."
        );
        assert_eq!(e.resolution(), "Specify criteria value(s) as Long.");
        assert!(matches!(
            compile("HostAsset", HOSTASSET, &[raw("nope", "EQUALS", "x")]),
            Err(CriteriaError::UnknownField { .. })
        ));
        assert!(matches!(
            compile("HostAsset", HOSTASSET, &[raw("id", "CONTAINS", "1")]),
            Err(CriteriaError::BadOperator { .. })
        ));
        assert!(matches!(
            compile("HostAsset", HOSTASSET, &[raw("name", "LIKE", "x")]),
            Err(CriteriaError::BadOperator { .. })
        ));
    }
}
