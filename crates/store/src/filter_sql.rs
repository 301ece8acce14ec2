//! Typed filters to SQL. Each field target maps to a column of `asset a` (or `webapp w`) or to an
//! index-backed subquery over a collection table (tags, ports, software, WAS custom attributes);
//! nothing is ever filtered in memory.

use crate::sql::Dialect;
use openqps_query::fields::{
    ActKeyField, AgentConfigField, AssetField, HostField, TagField, WebAppField,
};
use openqps_query::{Condition, Filter, Operator, Value};
use sea_query::{Expr, ExprTrait, JoinType, Query, SelectStatement};

/// Where a criterion looks, in SQL terms.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Target {
    /// A column; `(table alias, column)`.
    Col(&'static str, &'static str),
    /// A 0/1 column.
    BoolCol(&'static str, &'static str),
    /// Whether a column holds a value: a boolean criterion (`isScanned`).
    Present(&'static str, &'static str),
    TagName,
    TagId,
    Port,
    Software,
    /// A column of the host's `agent` row; hosts without an agent have no value.
    Agent(&'static str),
    /// A column of the host's cloud sources, of one cloud or any.
    Cloud(Option<&'static str>, &'static str),
    /// A WAS custom attribute, named by the condition.
    Attribute,
}

pub(crate) trait SqlTarget: Copy {
    fn target(self) -> Target;
}

impl SqlTarget for HostField {
    fn target(self) -> Target {
        use HostField::*;
        match self {
            Id => Target::Col("a", "id"),
            Name => Target::Col("a", "name"),
            Created => Target::Col("a", "created"),
            Updated => Target::Col("a", "modified"),
            Type => Target::Col("a", "asset_type"),
            QwebHostId => Target::Col("a", "qweb_host_id"),
            Os => Target::Col("a", "os"),
            DnsHostName => Target::Col("a", "dns_host_name"),
            Address => Target::Col("a", "address"),
            NetbiosName => Target::Col("a", "netbios_name"),
            Fqdn => Target::Col("a", "fqdn"),
            TrackingMethod => Target::Col("a", "tracking_method"),
            TagName => Target::TagName,
            TagId => Target::TagId,
            LastVulnScan => Target::Col("a", "last_vuln_scan"),
            LastComplianceScan => Target::Col("a", "last_compliance_scan"),
            Port => Target::Port,
            InstalledSoftware => Target::Software,
            ActivationKey => Target::Agent("activation_key_id"),
            AgentConfigurationName => Target::Agent("configuration_name"),
            AgentConfigurationId => Target::Agent("configuration_id"),
            AgentVersion => Target::Agent("agent_version"),
            LastCheckedIn => Target::Agent("last_checked_in"),
            InformationGatheredUpdated => Target::Col("a", "information_gathered_updated"),
            VulnsUpdated => Target::Col("a", "vulns_updated"),
            NetworkGuid => Target::Col("a", "network_guid"),
            NetbiosNetworkId => Target::Col("a", "netbios_network_id"),
            Domain => Target::Col("a", "domain"),
            CloudProvider => Target::Col("a", "cloud_provider"),
            Cloud(kind, col) => Target::Cloud(kind, col),
        }
    }
}

impl SqlTarget for AssetField {
    fn target(self) -> Target {
        use AssetField::*;
        match self {
            Id => Target::Col("a", "id"),
            Name => Target::Col("a", "name"),
            Created => Target::Col("a", "created"),
            Updated => Target::Col("a", "modified"),
            Type => Target::Col("a", "asset_type"),
            TagName => Target::TagName,
            TagId => Target::TagId,
        }
    }
}

impl SqlTarget for WebAppField {
    fn target(self) -> Target {
        use WebAppField::*;
        match self {
            Id => Target::Col("a", "id"),
            Name => Target::Col("a", "name"),
            Url => Target::Col("w", "url"),
            Tags => Target::TagId,
            TagName => Target::TagName,
            TagId => Target::TagId,
            CreatedDate => Target::Col("w", "created"),
            UpdatedDate => Target::Col("w", "updated"),
            IsScheduled => Target::BoolCol("w", "is_scheduled"),
            IsScanned => Target::Present("w", "last_scan_id"),
            LastScanStatus => Target::Col("w", "last_scan_status"),
            LastScanDate => Target::Col("w", "last_scan_date"),
            Attribute => Target::Attribute,
        }
    }
}

/// Tag criteria look at `tag a` (the alias every object query uses for its main table).
impl SqlTarget for TagField {
    fn target(self) -> Target {
        use TagField::*;
        match self {
            Id => Target::Col("a", "id"),
            Name => Target::Col("a", "name"),
            Parent => Target::Col("a", "parent_id"),
            RuleType => Target::Col("a", "rule_type"),
            Provider => Target::Col("a", "provider"),
            Color => Target::Col("a", "color"),
        }
    }
}

impl SqlTarget for ActKeyField {
    fn target(self) -> Target {
        use ActKeyField::*;
        match self {
            Id => Target::Col("a", "id"),
            Title => Target::Col("a", "title"),
            Type => Target::Col("a", "key_type"),
            ActivationKey => Target::Col("a", "activation_key"),
            CountPurchased => Target::Col("a", "count_purchased"),
            ExpireDate => Target::Col("a", "expire_date"),
            Created => Target::Col("a", "created"),
        }
    }
}

impl SqlTarget for AgentConfigField {
    fn target(self) -> Target {
        use AgentConfigField::*;
        match self {
            Id => Target::Col("a", "id"),
            Name => Target::Col("a", "name"),
            IsDefault => Target::BoolCol("a", "is_default"),
            Created => Target::Col("a", "created"),
            Modified => Target::Col("a", "modified"),
        }
    }
}

/// Adds every condition of `filter` to `q`, which selects from `asset a` of subscription `sub`.
/// `dialect` only picks how `CONTAINS` folds case (see [`Dialect::like`]).
pub(crate) fn apply<F: SqlTarget>(
    q: &mut SelectStatement,
    filter: &Filter<F>,
    sub: i64,
    dialect: Dialect,
) {
    for c in &filter.conditions {
        q.and_where(condition(c, sub, dialect));
    }
}

fn condition<F: SqlTarget>(c: &Condition<F>, sub: i64, d: Dialect) -> Expr {
    match c.target.target() {
        Target::Col(t, col) => scalar(Expr::col((t, col)), c.op, &c.value, d),
        Target::BoolCol(t, col) => {
            let v = matches!(c.value, Value::Bool(true)) as i64;
            match c.op {
                Operator::NotEquals => Expr::col((t, col)).ne(v),
                _ => Expr::col((t, col)).eq(v),
            }
        }
        Target::Present(t, col) => {
            let wanted = matches!(c.value, Value::Bool(true)) != (c.op == Operator::NotEquals);
            if wanted {
                Expr::col((t, col)).is_not_null()
            } else {
                Expr::col((t, col)).is_null()
            }
        }
        Target::Attribute => collection(
            Query::select()
                .column(("wa", "asset_id"))
                .from_as("webapp_attribute", "wa")
                .and_where(Expr::col(("wa", "name")).eq(c.name.clone().unwrap_or_default()))
                .to_owned(),
            Expr::col(("wa", "value")),
            c,
            d,
        ),
        Target::TagName => collection(
            Query::select()
                .column(("at", "asset_id"))
                .from_as("asset_tag", "at")
                .join_as(
                    JoinType::InnerJoin,
                    "tag",
                    "t",
                    Expr::col(("t", "id")).equals(("at", "tag_id")),
                )
                .and_where(Expr::col(("t", "subscription_id")).eq(sub))
                .to_owned(),
            Expr::col(("t", "name")),
            c,
            d,
        ),
        Target::TagId => collection(
            Query::select()
                .column(("at", "asset_id"))
                .from_as("asset_tag", "at")
                .to_owned(),
            Expr::col(("at", "tag_id")),
            c,
            d,
        ),
        Target::Port => collection(
            Query::select()
                .column(("p", "asset_id"))
                .from_as("host_port", "p")
                .to_owned(),
            Expr::col(("p", "port")),
            c,
            d,
        ),
        Target::Agent(col) => collection(
            Query::select()
                .column(("g", "asset_id"))
                .from_as("agent", "g")
                .to_owned(),
            Expr::col(("g", col)),
            c,
            d,
        ),
        Target::Cloud(kind, col) => {
            let mut base = Query::select()
                .column(("cs", "asset_id"))
                .from_as("host_source", "cs")
                .to_owned();
            if let Some(kind) = kind {
                base.and_where(Expr::col(("cs", "kind")).eq(kind));
            }
            collection(base, Expr::col(("cs", col)), c, d)
        }
        Target::Software => collection(
            Query::select()
                .column(("s", "asset_id"))
                .from_as("host_software", "s")
                .to_owned(),
            Expr::col(("s", "name")),
            c,
            d,
        ),
    }
}

/// A condition on a column holding one value. `NOT EQUALS` also matches an absent value: a host
/// without an OS is "not Windows".
fn scalar(col: Expr, op: Operator, value: &Value, d: Dialect) -> Expr {
    match (op, value) {
        (Operator::Equals, Value::Time { start, end }) => col.clone().gte(*start).and(col.lt(*end)),
        (Operator::NotEquals, Value::Time { start, end }) => col
            .clone()
            .is_null()
            .or(col.clone().lt(*start))
            .or(col.gte(*end)),
        (Operator::Greater, Value::Time { end, .. }) => col.gte(*end),
        (Operator::Lesser, Value::Time { start, .. }) => col.lt(*start),
        (Operator::Contains, Value::Text(s)) => d.like(col, contains_pattern(s)),
        (Operator::Equals, v) => col.eq(sql_value(v)),
        (Operator::NotEquals, v) => col.clone().is_null().or(col.ne(sql_value(v))),
        (Operator::Greater, v) => col.gt(sql_value(v)),
        (Operator::Lesser, v) => col.lt(sql_value(v)),
        (Operator::In, Value::Ints(vs)) => col.is_in(vs.iter().copied()),
        (Operator::In, Value::Texts(vs)) => col.is_in(vs.iter().cloned()),
        (Operator::None, _) => col.is_null(),
        // The registry never pairs other operators with these values.
        _ => Expr::val(false),
    }
}

/// A condition on a collection (tags, ports, software): the asset qualifies when one element
/// satisfies it; `NOT EQUALS` when none equals the value, `NONE` when it has no element at all.
fn collection<F>(base: SelectStatement, element: Expr, c: &Condition<F>, d: Dialect) -> Expr {
    let id = Expr::col(("a", "id"));
    match c.op {
        Operator::NotEquals => {
            let mut q = base;
            q.and_where(scalar(element, Operator::Equals, &c.value, d));
            id.not_in_subquery(q)
        }
        Operator::None => id.not_in_subquery(base),
        op => {
            let mut q = base;
            q.and_where(scalar(element, op, &c.value, d));
            id.in_subquery(q)
        }
    }
}

fn sql_value(v: &Value) -> sea_query::Value {
    match v {
        Value::Int(i) => (*i).into(),
        Value::Text(s) => s.clone().into(),
        Value::Bool(b) => (*b as i64).into(),
        // Lists and ranges are handled before this is reached.
        Value::Ints(_) | Value::Texts(_) | Value::Time { .. } | Value::Nothing => {
            sea_query::Value::Bool(None)
        }
    }
}

/// `%text%` with `%`, `_` and `\` escaped, so user text matches literally.
fn contains_pattern(s: &str) -> String {
    let mut p = String::with_capacity(s.len() + 2);
    p.push('%');
    for ch in s.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}
