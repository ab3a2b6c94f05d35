//! The list query: typed filters, sorts and a keyset cursor, turned into SQL that means the same
//! on SQLite and PostgreSQL. Field names are checked `FieldName`s and, like every value, bound as
//! parameters (`"data" ->> ?`): no name of a field is ever written into the SQL text.

use cit_core::content::FieldName;
use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr, SimpleExpr};
use sea_orm::{Condition, Value as DbValue};

pub use cit_core::content::{
    Cursor, CursorValue, Filter, FilterValue, ListQuery, Op, SortKey, SysField, Target, ValueType,
};

use super::Entry;
use crate::Backend;
use crate::entity::entry::Column;
use crate::scoped::json_field;

fn db_of(v: &CursorValue) -> DbValue {
    match v.clone() {
        CursorValue::I(i) => i.into(),
        CursorValue::S(s) => s.into(),
        CursorValue::N(n) => n.into(),
        CursorValue::T(t) => t.into(),
        CursorValue::U(u) => u.into(),
    }
}

/// sea-query's placeholder in custom SQL: `?` on SQLite, `$1` on PostgreSQL.
fn ph(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "?",
        Backend::Postgres => "$1",
    }
}

fn json_text(field: &FieldName) -> SimpleExpr {
    json_field(field)
}

fn json_number(backend: Backend, field: &FieldName) -> SimpleExpr {
    let cast = match backend {
        Backend::Sqlite => "CAST(? AS REAL)",
        Backend::Postgres => "CAST($1 AS DOUBLE PRECISION)",
    };
    Expr::cust_with_exprs(cast, [json_field(field)])
}

fn json_bool(backend: Backend, field: &FieldName) -> SimpleExpr {
    match backend {
        // SQLite's ->> turns JSON true/false into 1/0.
        Backend::Sqlite => json_field(field),
        Backend::Postgres => Expr::cust_with_exprs("CAST($1 AS BOOLEAN)", [json_field(field)]),
    }
}

fn sys_expr(f: SysField) -> SimpleExpr {
    Expr::col(match f {
        SysField::Id => Column::Id,
        SysField::Slug => Column::Slug,
        SysField::Locale => Column::Locale,
        SysField::Status => Column::Status,
        SysField::CreatedAt => Column::CreatedAt,
        SysField::UpdatedAt => Column::UpdatedAt,
        SysField::PublishedAt => Column::PublishedAt,
    })
}

fn db_value(v: &FilterValue, backend: Backend) -> DbValue {
    match v {
        FilterValue::Text(s) => s.clone().into(),
        FilterValue::Number(n) => (*n).into(),
        FilterValue::Bool(b) => match backend {
            Backend::Sqlite => i64::from(*b).into(),
            Backend::Postgres => (*b).into(),
        },
        FilterValue::Time(t) => (*t).into(),
        FilterValue::Uuid(u) => (*u).into(),
        FilterValue::List(_) => DbValue::String(None),
    }
}

/// Escapes `%`, `_` and `\` for a LIKE pattern with `ESCAPE '\'`.
fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

fn array_contains(backend: Backend, field: &FieldName, value: &str) -> SimpleExpr {
    match backend {
        Backend::Postgres => {
            let needle = serde_json::json!([value]).to_string();
            Expr::cust_with_values(r#"(("data" -> $1) @> CAST($2 AS jsonb))"#, [field.as_str().to_owned(), needle])
        }
        Backend::Sqlite => Expr::cust_with_values(
            r#"EXISTS (SELECT 1 FROM json_each("entries"."data", ?) WHERE "value" = ?)"#,
            [format!("$.{}", field.as_str()), value.to_owned()],
        ),
    }
}

/// The SQL condition of one filter.
pub(crate) fn filter_condition(f: &Filter, backend: Backend) -> SimpleExpr {
    let expr = match &f.target {
        Target::Sys(s) => sys_expr(*s),
        Target::Data(name, ValueType::Number) => json_number(backend, name),
        Target::Data(name, ValueType::Bool) => json_bool(backend, name),
        Target::Data(name, _) => json_text(name),
    };
    if f.op == Op::Null {
        let wants_null = matches!(f.value, FilterValue::Bool(true));
        return if wants_null { expr.is_null() } else { expr.is_not_null() };
    }
    if let (Target::Data(name, ValueType::Array), FilterValue::Text(v)) = (&f.target, &f.value) {
        return array_contains(backend, name, v);
    }
    let v = db_value(&f.value, backend);
    match f.op {
        Op::Eq => expr.eq(v),
        Op::Ne => expr.clone().ne(v).or(expr.is_null()),
        Op::Lt => expr.lt(v),
        Op::Lte => expr.lte(v),
        Op::Gt => expr.gt(v),
        Op::Gte => expr.gte(v),
        Op::In => {
            let items: Vec<DbValue> = match &f.value {
                FilterValue::List(items) => items.iter().map(|i| db_value(i, backend)).collect(),
                other => vec![db_value(other, backend)],
            };
            expr.is_in(items)
        }
        Op::Contains | Op::StartsWith => {
            let text = match &f.value {
                FilterValue::Text(s) => s.to_lowercase(),
                _ => String::new(),
            };
            let pattern = if f.op == Op::Contains {
                format!("%{}%", like_escape(&text))
            } else {
                format!("{}%", like_escape(&text))
            };
            Expr::cust_with_exprs(format!("LOWER({})", ph(backend)), [expr]).like(LikeExpr::new(pattern).escape('\\'))
        }
        Op::Null => expr.is_null(),
    }
}

/// One column of the ORDER BY, with how to read the same value from an entry.
struct KeyExpr {
    sql: SimpleExpr,
    desc: bool,
    value: Box<dyn Fn(&Entry) -> CursorValue + Send + Sync>,
}

fn data_is_null(entry: &Entry, name: &str) -> bool {
    entry.data.get(name).is_none_or(serde_json::Value::is_null)
}

/// Sort keys, expanded so that every SQL expression is non-null (nulls sort last through a
/// flag), and closed by the id so the order is total.
fn key_exprs(sort: &[SortKey], backend: Backend, published_only: bool) -> Vec<KeyExpr> {
    let mut keys = Vec::new();
    for k in sort {
        match &k.target {
            // Published entries always have a publication time: the bare column, which the
            // list index (tenant, type, status, published_at) walks in order, so a page stops
            // after its rows instead of sorting every match.
            Target::Sys(SysField::PublishedAt) if published_only => {
                keys.push(KeyExpr {
                    sql: Expr::cust(r#""published_at""#),
                    desc: k.desc,
                    value: Box::new(|e| CursorValue::T(e.published_at.unwrap_or(e.created_at))),
                });
            }
            Target::Sys(SysField::PublishedAt) => {
                keys.push(KeyExpr {
                    sql: Expr::cust(r#"CASE WHEN "published_at" IS NULL THEN 1 ELSE 0 END"#),
                    desc: false,
                    value: Box::new(|e| CursorValue::I(i32::from(e.published_at.is_none()))),
                });
                keys.push(KeyExpr {
                    sql: Expr::cust(r#"COALESCE("published_at", "created_at")"#),
                    desc: k.desc,
                    value: Box::new(|e| CursorValue::T(e.published_at.unwrap_or(e.created_at))),
                });
            }
            Target::Sys(f) => {
                let f = *f;
                keys.push(KeyExpr {
                    sql: sys_expr(f),
                    desc: k.desc,
                    value: Box::new(move |e| match f {
                        SysField::Id => CursorValue::U(e.id.0),
                        SysField::Slug => CursorValue::S(e.slug.clone()),
                        SysField::Locale => CursorValue::S(e.locale.clone()),
                        SysField::Status => CursorValue::S(e.status.as_str().to_owned()),
                        SysField::CreatedAt => CursorValue::T(e.created_at),
                        SysField::UpdatedAt => CursorValue::T(e.updated_at),
                        SysField::PublishedAt => CursorValue::T(e.published_at.unwrap_or(e.created_at)),
                    }),
                });
            }
            Target::Data(name, vt) => {
                let n1 = name.as_str().to_owned();
                keys.push(KeyExpr {
                    sql: Expr::cust_with_exprs(
                        format!("CASE WHEN {} IS NULL THEN 1 ELSE 0 END", ph(backend)),
                        [json_text(name)],
                    ),
                    desc: false,
                    value: Box::new(move |e| CursorValue::I(i32::from(data_is_null(e, &n1)))),
                });
                let n2 = name.as_str().to_owned();
                match vt {
                    ValueType::Number => {
                        let cast = json_number(backend, name);
                        keys.push(KeyExpr {
                            sql: Expr::cust_with_exprs(format!("COALESCE({}, 0)", ph(backend)), [cast]),
                            desc: k.desc,
                            value: Box::new(move |e| {
                                CursorValue::N(e.data.get(&n2).and_then(serde_json::Value::as_f64).unwrap_or(0.0))
                            }),
                        });
                    }
                    _ => {
                        keys.push(KeyExpr {
                            sql: Expr::cust_with_exprs(format!("COALESCE({}, '')", ph(backend)), [json_text(name)]),
                            desc: k.desc,
                            value: Box::new(move |e| {
                                CursorValue::S(match e.data.get(&n2) {
                                    Some(serde_json::Value::String(s)) => s.clone(),
                                    Some(serde_json::Value::Null) | None => String::new(),
                                    Some(other) => other.to_string(),
                                })
                            }),
                        });
                    }
                }
            }
        }
    }
    if !sort.iter().any(|k| k.target == Target::Sys(SysField::Id)) {
        keys.push(KeyExpr { sql: sys_expr(SysField::Id), desc: false, value: Box::new(|e| CursorValue::U(e.id.0)) });
    }
    keys
}

/// ORDER BY expressions, the keyset condition for `after`, and a function that makes the
/// cursor of an entry.
pub(crate) struct Ordering {
    keys: Vec<KeyExpr>,
    signature: String,
}

impl Ordering {
    /// `published_only`: every row has status published (so a publication time).
    pub(crate) fn new(sort: &[SortKey], backend: Backend, published_only: bool) -> Self {
        let signature = sort
            .iter()
            .map(|k| {
                let name = match &k.target {
                    Target::Sys(f) => format!("{f:?}"),
                    Target::Data(n, _) => format!("data.{n}"),
                };
                if k.desc { format!("-{name}") } else { name }
            })
            .collect::<Vec<_>>()
            .join(",");
        Self { keys: key_exprs(sort, backend, published_only), signature }
    }

    pub(crate) fn order_by(&self) -> Vec<(SimpleExpr, bool)> {
        self.keys.iter().map(|k| (k.sql.clone(), k.desc)).collect()
    }

    /// Rows strictly after the cursor in this order; None when the cursor does not fit it.
    pub(crate) fn after(&self, cursor: &Cursor) -> Option<Condition> {
        if cursor.signature() != self.signature || cursor.values().len() != self.keys.len() {
            return None;
        }
        let mut any = Condition::any();
        for i in 0..self.keys.len() {
            let mut all = Condition::all();
            for j in 0..i {
                all = all.add(self.keys[j].sql.clone().eq(db_of(&cursor.values()[j])));
            }
            let v = db_of(&cursor.values()[i]);
            let k = &self.keys[i];
            all = all.add(if k.desc { k.sql.clone().lt(v) } else { k.sql.clone().gt(v) });
            any = any.add(all);
        }
        Some(any)
    }

    pub(crate) fn cursor_of(&self, entry: &Entry) -> Cursor {
        Cursor::new(self.signature.clone(), self.keys.iter().map(|k| (k.value)(entry)).collect())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::entity::entry;
    use sea_orm::{DbBackend, EntityTrait, QueryOrder, QueryTrait};

    #[test]
    fn custom_sql_uses_each_backends_placeholder() {
        for (backend, db) in [(Backend::Sqlite, DbBackend::Sqlite), (Backend::Postgres, DbBackend::Postgres)] {
            let sort = vec![SortKey {
                target: Target::Data(FieldName::parse("count").unwrap(), ValueType::Number),
                desc: true,
            }];
            let ordering = Ordering::new(&sort, backend, false);
            let mut select = entry::Entity::find();
            for (expr, desc) in ordering.order_by() {
                select = if desc { select.order_by_desc(expr) } else { select.order_by_asc(expr) };
            }
            let filter = Filter {
                target: Target::Data(FieldName::parse("tags").unwrap(), ValueType::Array),
                op: Op::Contains,
                value: FilterValue::Text("spid".into()),
            };
            let like = Filter {
                target: Target::Sys(SysField::Slug),
                op: Op::Contains,
                value: FilterValue::Text("a_b".into()),
            };
            use sea_orm::QueryFilter;
            let sql = select
                .filter(filter_condition(&filter, backend))
                .filter(filter_condition(&like, backend))
                .build(db)
                .to_string();
            assert!(!sql.contains("$1") && !sql.contains("LOWER(?)") && !sql.contains("COALESCE(?"), "{sql}");
            assert!(
                sql.contains("'spid'") || sql.contains(r#"'[\"spid\"]'"#) || sql.contains(r#"'["spid"]'"#),
                "{sql}"
            );
            assert!(sql.contains(r#"LOWER("slug")"#) && sql.contains("DESC"), "{sql}");
        }
    }

    #[test]
    fn descending_keys_sort_descending() {
        let sort =
            vec![SortKey { target: Target::Data(FieldName::parse("title").unwrap(), ValueType::Text), desc: true }];
        let ordering = Ordering::new(&sort, Backend::Sqlite, false);
        let mut select = entry::Entity::find();
        for (expr, desc) in ordering.order_by() {
            select = if desc { select.order_by_desc(expr) } else { select.order_by_asc(expr) };
        }
        let sql = select.build(DbBackend::Sqlite).to_string();
        assert!(sql.contains(r#"COALESCE("data" ->> 'title', '') DESC"#), "{sql}");
    }

    /// Every place a field of the data reaches SQL (each kind of filter, both sort keys of a
    /// field, the keyset condition of a cursor) binds its name as a value.
    #[test]
    fn field_names_are_bound_never_written_into_the_sql() {
        let field = |name: &str| FieldName::parse(name).unwrap();
        let filters = [
            (ValueType::Text, Op::Eq, FilterValue::Text("x".into()), "campo_testo"),
            (ValueType::Text, Op::Contains, FilterValue::Text("x".into()), "campo_simile"),
            (ValueType::Number, Op::Gt, FilterValue::Number(1.0), "campo_numero"),
            (ValueType::Bool, Op::Eq, FilterValue::Bool(true), "campo_vero"),
            (ValueType::Array, Op::Contains, FilterValue::Text("x".into()), "campo_lista"),
            (ValueType::Text, Op::In, FilterValue::List(vec![FilterValue::Text("x".into())]), "campo_in"),
            (ValueType::Text, Op::Null, FilterValue::Bool(true), "campo_nullo"),
        ];
        let sort = vec![
            SortKey { target: Target::Data(field("ordine_numero"), ValueType::Number), desc: true },
            SortKey { target: Target::Data(field("ordine_testo"), ValueType::Text), desc: false },
        ];
        for (backend, db) in [(Backend::Sqlite, DbBackend::Sqlite), (Backend::Postgres, DbBackend::Postgres)] {
            use sea_orm::QueryFilter;
            let ordering = Ordering::new(&sort, backend, false);
            let mut select = entry::Entity::find();
            for (ty, op, value, name) in &filters {
                let f = Filter { target: Target::Data(field(name), *ty), op: *op, value: value.clone() };
                select = select.filter(filter_condition(&f, backend));
            }
            for (expr, desc) in ordering.order_by() {
                select = if desc { select.order_by_desc(expr) } else { select.order_by_asc(expr) };
            }
            let now = chrono::Utc::now();
            let probe = Entry {
                id: cit_core::EntryId::new(),
                type_id: "prova".into(),
                locale: "it".into(),
                translation_group: uuid::Uuid::nil(),
                slug: "prova".into(),
                status: cit_core::content::EntryStatus::Draft,
                data: serde_json::json!({"ordine_numero": 2, "ordine_testo": "b"}).as_object().unwrap().clone(),
                publish_at: None,
                unpublish_at: None,
                published_at: None,
                created_at: now,
                updated_at: now,
                author: "console".into(),
                revision: 1,
            };
            select = select.filter(ordering.after(&ordering.cursor_of(&probe)).unwrap());
            let stmt = select.build(db);
            let values = format!("{:?}", stmt.values);
            for name in filters.iter().map(|f| f.3).chain(["ordine_numero", "ordine_testo"]) {
                assert!(!stmt.sql.contains(name), "{name} in the SQL text of {db:?}: {}", stmt.sql);
                assert!(values.contains(name), "{name} bound as a value on {db:?}: {values}");
            }
        }
    }
}
