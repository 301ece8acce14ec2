//! A reference evaluator: the meaning of a condition, written over plain values, for tests that
//! check the SQL the store runs against it.

use crate::{Condition, Operator, Value};

/// The value(s) a record has for one field: one for a scalar, several for a collection (tags,
/// ports…), where a condition holds if any element satisfies it (and `NOT EQUALS` if none equals).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actual {
    Int(Vec<i64>),
    Text(Vec<String>),
    Time(Vec<i64>),
    Bool(bool),
}

/// Whether `actual` satisfies `cond`.
pub fn holds<F>(cond: &Condition<F>, actual: &Actual) -> bool {
    use Operator::*;
    match (actual, &cond.value) {
        (Actual::Int(xs), Value::Int(v)) => match cond.op {
            Equals => xs.contains(v),
            NotEquals => !xs.contains(v),
            Greater => xs.iter().any(|x| x > v),
            Lesser => xs.iter().any(|x| x < v),
            _ => false,
        },
        (Actual::Int(xs), Value::Ints(vs)) => xs.iter().any(|x| vs.contains(x)),
        (Actual::Text(xs), Value::Text(v)) => match cond.op {
            Equals => xs.iter().any(|x| x == v),
            NotEquals => !xs.iter().any(|x| x == v),
            Contains => {
                // ASCII case folding, as SQL `LIKE` does.
                let needle = v.to_ascii_lowercase();
                xs.iter().any(|x| x.to_ascii_lowercase().contains(&needle))
            }
            _ => false,
        },
        (Actual::Text(xs), Value::Texts(vs)) => xs.iter().any(|x| vs.contains(x)),
        (Actual::Time(xs), Value::Time { start, end }) => match cond.op {
            Equals => xs.iter().any(|x| x >= start && x < end),
            NotEquals => !xs.iter().any(|x| x >= start && x < end),
            Greater => xs.iter().any(|x| x >= end),
            Lesser => xs.iter().any(|x| x < start),
            _ => false,
        },
        (Actual::Bool(x), Value::Bool(v)) => match cond.op {
            Equals => x == v,
            NotEquals => x != v,
            _ => false,
        },
        (Actual::Int(xs), Value::Nothing) | (Actual::Time(xs), Value::Nothing) => xs.is_empty(),
        (Actual::Text(xs), Value::Nothing) => xs.is_empty(),
        _ => false,
    }
}
