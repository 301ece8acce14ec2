//! Criteria, as a QPS `ServiceRequest` carries them, turned into typed filters.
//!
//! Each object has a field registry ([`FieldDef`]s): the field's wire name, its type, the
//! operators it allows and a target `F` that only the store turns into SQL. [`compile`] checks raw
//! criteria against a registry and yields a [`Filter`]; [`eval`] is a small reference evaluator
//! used by tests to check the SQL the store runs.

mod compile;
mod dates;
pub mod eval;
pub mod fields;

pub use compile::{CriteriaError, MAX_CRITERIA, MAX_IN_VALUES, MAX_VALUE_CHARS, compile};
pub use dates::{parse_instant, parse_time_range};

/// A criterion as it arrived, before any checking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawCriterion {
    pub field: String,
    pub operator: String,
    pub value: String,
    /// The `name` attribute, used by some objects (WAS custom attributes).
    pub name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    Equals,
    NotEquals,
    Contains,
    In,
    Greater,
    Lesser,
    None,
}

impl Operator {
    pub const ALL: [Operator; 7] = [
        Operator::Equals,
        Operator::NotEquals,
        Operator::Contains,
        Operator::In,
        Operator::Greater,
        Operator::Lesser,
        Operator::None,
    ];

    /// Wire spelling; note the space in `NOT EQUALS`.
    pub fn name(self) -> &'static str {
        match self {
            Operator::Equals => "EQUALS",
            Operator::NotEquals => "NOT EQUALS",
            Operator::Contains => "CONTAINS",
            Operator::In => "IN",
            Operator::Greater => "GREATER",
            Operator::Lesser => "LESSER",
            Operator::None => "NONE",
        }
    }

    pub fn parse(s: &str) -> Option<Operator> {
        Operator::ALL.into_iter().find(|o| o.name() == s.trim())
    }
}

/// The type of a searchable field; it fixes the operators allowed and how values parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// Qualys calls these "Long" in its error texts.
    Integer,
    Text,
    Date,
    /// A closed set of values.
    Keyword(&'static Keywords),
    Boolean,
}

impl FieldType {
    pub const fn operators(self) -> &'static [Operator] {
        use Operator::*;
        match self {
            FieldType::Integer => &[Equals, NotEquals, Greater, Lesser, In],
            FieldType::Text => &[Equals, NotEquals, Contains],
            FieldType::Date => &[Equals, NotEquals, Greater, Lesser],
            FieldType::Keyword(_) => &[Equals, NotEquals, In],
            FieldType::Boolean => &[Equals, NotEquals],
        }
    }
}

/// The values of a keyword field, and the other spellings users type for some of them.
#[derive(Debug, PartialEq, Eq)]
pub struct Keywords {
    pub values: &'static [&'static str],
    pub aliases: &'static [(&'static str, &'static str)],
}

impl Keywords {
    /// Canonical spelling of `s`; matching ignores ASCII case.
    pub fn canonical(&self, s: &str) -> Option<&'static str> {
        let s = s.trim();
        self.values
            .iter()
            .chain(self.aliases.iter().map(|(alias, _)| alias))
            .position(|v| v.eq_ignore_ascii_case(s))
            .map(|i| {
                if i < self.values.len() {
                    self.values[i]
                } else {
                    self.aliases[i - self.values.len()].1
                }
            })
    }
}

/// One searchable field of an object.
#[derive(Debug, Clone, Copy)]
pub struct FieldDef<F: 'static> {
    pub name: &'static str,
    pub ty: FieldType,
    /// Operators allowed; usually `ty.operators()`.
    pub operators: &'static [Operator],
    pub target: F,
    /// The criterion must carry a `name` attribute (`<Criteria field="attributes" name="…">`).
    pub named: bool,
}

impl<F> FieldDef<F> {
    pub const fn new(name: &'static str, ty: FieldType, target: F) -> FieldDef<F> {
        FieldDef {
            name,
            ty,
            operators: ty.operators(),
            target,
            named: false,
        }
    }

    pub const fn named(mut self) -> FieldDef<F> {
        self.named = true;
        self
    }

    pub const fn with_operators(mut self, operators: &'static [Operator]) -> FieldDef<F> {
        self.operators = operators;
        self
    }
}

/// A checked, typed criterion value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Int(i64),
    Ints(Vec<i64>),
    /// Trimmed text; for `CONTAINS` the store matches it case-insensitively.
    Text(String),
    Texts(Vec<String>),
    /// A half-open range of epoch seconds `[start, end)`: a whole day for `YYYY-MM-DD`, one second
    /// for a full timestamp.
    Time {
        start: i64,
        end: i64,
    },
    Bool(bool),
    /// `NONE` takes no value.
    Nothing,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition<F> {
    pub target: F,
    pub op: Operator,
    pub value: Value,
    /// The `name` attribute of the criterion, for fields that take one (WAS custom attributes:
    /// which attribute the value is compared with).
    pub name: Option<String>,
}

/// Conditions ANDed together; empty matches everything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter<F> {
    pub conditions: Vec<Condition<F>>,
}

impl<F> Filter<F> {
    pub fn all() -> Filter<F> {
        Filter {
            conditions: Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.conditions.is_empty()
    }
}

impl<F> Default for Filter<F> {
    fn default() -> Self {
        Filter::all()
    }
}

/// A list of raw criteria as one line of text each (`field`, `operator`, `value` and `name`
/// separated by tabs, with `\`, tab and line breaks escaped), so a stored rule can hold them
/// without the store knowing XML or JSON.
pub fn encode_criteria(raw: &[RawCriterion]) -> String {
    fn esc(s: &str) -> String {
        s.replace('\\', "\\\\")
            .replace('\t', "\\t")
            .replace('\n', "\\n")
            .replace('\r', "\\r")
    }
    raw.iter()
        .map(|c| {
            format!(
                "{}\t{}\t{}\t{}",
                esc(&c.field),
                esc(&c.operator),
                esc(&c.value),
                esc(c.name.as_deref().unwrap_or_default())
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The inverse of [`encode_criteria`]; `None` for text it did not write.
pub fn decode_criteria(text: &str) -> Option<Vec<RawCriterion>> {
    fn unesc(s: &str) -> Option<String> {
        let mut out = String::with_capacity(s.len());
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            out.push(match chars.next()? {
                '\\' => '\\',
                't' => '\t',
                'n' => '\n',
                'r' => '\r',
                _ => return None,
            });
        }
        Some(out)
    }
    if text.is_empty() {
        return Some(Vec::new());
    }
    text.split('\n')
        .map(|line| {
            let parts: Vec<&str> = line.split('\t').collect();
            let [field, operator, value, name] = parts.as_slice() else {
                return None;
            };
            let name = unesc(name)?;
            Some(RawCriterion {
                field: unesc(field)?,
                operator: unesc(operator)?,
                value: unesc(value)?,
                name: (!name.is_empty()).then_some(name),
            })
        })
        .collect()
}

#[cfg(test)]
mod criteria_text_tests {
    use super::*;

    #[test]
    fn round_trips() {
        let raw = vec![
            RawCriterion {
                field: "name".into(),
                operator: "CONTAINS".into(),
                value: "a\tb\\c\nd".into(),
                name: None,
            },
            RawCriterion {
                field: "attributes".into(),
                operator: "EQUALS".into(),
                value: "x".into(),
                name: Some("Owner".into()),
            },
        ];
        assert_eq!(decode_criteria(&encode_criteria(&raw)), Some(raw));
        assert_eq!(decode_criteria("only\ttwo"), None);
    }
}
