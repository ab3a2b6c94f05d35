//! What a query may cost, checked on the parsed document before anything runs. Each refusal has
//! a stable `extensions.code`:
//!
//! | code | refused when |
//! |---|---|
//! | `DEPTH_LIMIT` | fields nest deeper than [`MAX_DEPTH`] (introspection excluded), or the text nests brackets deeper than [`MAX_NESTING`] |
//! | `COMPLEXITY_LIMIT` | the estimated cost is above [`MAX_COMPLEXITY`]: every field costs 1, and a list multiplies the cost of what it selects by its size (`first` for a connection, `max` or 10 for a many-reference, 10 for translations and revisions) |
//! | `TOO_MANY_ALIASES` | more than [`MAX_ALIASES`] aliased fields would be resolved |
//! | `FIRST_TOO_LARGE` | a connection (of entries, tickets or submissions) asks for more than [`MAX_FIRST`] items |

use std::collections::HashMap;

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, Field, OperationDefinition, OperationType, Selection, SelectionSet,
};
use async_graphql::registry::{MetaType, MetaTypeName, Registry};
use async_graphql::{Name, Positioned, Value, Variables};

use super::plan::{Plan, Shape};

/// Deepest nesting of fields (`notiziaList { nodes { argomenti { title } } }` is 4).
pub const MAX_DEPTH: usize = 10;
/// Highest estimated cost of a query.
pub const MAX_COMPLEXITY: u64 = 20_000;
/// Most aliased fields in one query.
pub const MAX_ALIASES: usize = 30;
/// Largest page of a connection.
pub const MAX_FIRST: i64 = 100;
/// Page size when `first` is not given.
pub const DEFAULT_FIRST: i64 = 20;
/// Deepest nesting of `{`, `[` and `(` in the query text, checked before parsing.
pub const MAX_NESTING: usize = 64;
/// Most queries in one batch.
pub const MAX_BATCH: usize = 10;
/// Size assumed for a list whose length is not bounded by its definition.
const DEFAULT_LIST: u64 = 10;
/// Selections visited before the walk gives up (fragments spread into each other can make a
/// small text very large).
const WALK_BUDGET: usize = 20_000;
/// Fragment spreads nested inside each other.
const MAX_FRAGMENT_NESTING: usize = 32;

/// Why a query was refused before it ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
}

impl Refusal {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }

    fn depth() -> Self {
        Self::new("DEPTH_LIMIT", format!("the query nests fields deeper than {MAX_DEPTH} levels"))
    }

    fn complexity() -> Self {
        Self::new(
            "COMPLEXITY_LIMIT",
            format!(
                "the query is too complex: its estimated cost is above {MAX_COMPLEXITY} (ask for fewer entries or fewer nested lists)"
            ),
        )
    }
}

/// What the selected operation is and costs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analysis {
    /// None when the document does not say which operation runs (the executor then refuses it).
    pub operation: Option<OperationType>,
    pub depth: usize,
    pub complexity: u64,
    pub aliases: usize,
}

/// Refuses text that nests brackets deeper than [`MAX_NESTING`], before a parser recurses into it.
pub fn prescan(query: &str) -> Result<(), Refusal> {
    let bytes = query.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i..].starts_with(b"\\\"\"\"") { 4 } else { 1 };
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(Refusal::new(
                        "DEPTH_LIMIT",
                        format!("the query nests brackets deeper than {MAX_NESTING} levels"),
                    ));
                }
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// Works out the depth, cost and aliases of the operation `operation_name` selects, and refuses
/// it when it is over a limit or asks for a page larger than [`MAX_FIRST`].
pub(crate) fn analyze(
    doc: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
    registry: &Registry,
    plan: &Plan,
) -> Result<Analysis, Refusal> {
    let op: Option<&Positioned<OperationDefinition>> = match (&doc.operations, operation_name) {
        (DocumentOperations::Single(op), None) => Some(op),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next(),
        _ => None,
    };
    let Some(op) = op else {
        return Ok(Analysis { operation: None, depth: 0, complexity: 0, aliases: 0 });
    };
    let root = match op.node.ty {
        OperationType::Query => Some(registry.query_type.as_str()),
        OperationType::Mutation => registry.mutation_type.as_deref(),
        OperationType::Subscription => None,
    };
    let defaults = op
        .node
        .variable_definitions
        .iter()
        .filter_map(|d| d.node.default_value.as_ref().map(|v| (d.node.name.node.clone(), v.node.clone())))
        .collect();
    let mut walker =
        Walker { doc, registry, plan, variables, defaults, aliases: 0, visited: 0, depth: 0, fragments: Vec::new() };
    let complexity = walker.selections(&op.node.selection_set.node, root, 0)?;
    if complexity > MAX_COMPLEXITY {
        return Err(Refusal::complexity());
    }
    Ok(Analysis { operation: Some(op.node.ty), depth: walker.depth, complexity, aliases: walker.aliases })
}

struct Walker<'a> {
    doc: &'a ExecutableDocument,
    registry: &'a Registry,
    plan: &'a Plan,
    variables: &'a Variables,
    defaults: HashMap<Name, Value>,
    aliases: usize,
    visited: usize,
    depth: usize,
    fragments: Vec<&'a str>,
}

impl<'a> Walker<'a> {
    /// The cost of a selection set on `parent` at field depth `depth`.
    fn selections(&mut self, set: &'a SelectionSet, parent: Option<&'a str>, depth: usize) -> Result<u64, Refusal> {
        let mut total: u64 = 0;
        for item in &set.items {
            let cost = match &item.node {
                Selection::Field(f) => self.field(&f.node, parent, depth)?,
                Selection::InlineFragment(inline) => {
                    let on = inline.node.type_condition.as_ref().map(|t| t.node.on.node.as_str()).or(parent);
                    self.selections(&inline.node.selection_set.node, on, depth)?
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    // A cycle is the validator's to report; it is not walked twice.
                    if self.fragments.contains(&name) {
                        continue;
                    }
                    let Some(fragment) = self.doc.fragments.get(name) else { continue };
                    if self.fragments.len() >= MAX_FRAGMENT_NESTING {
                        return Err(Refusal::new(
                            "DEPTH_LIMIT",
                            format!("fragments are spread inside each other more than {MAX_FRAGMENT_NESTING} times"),
                        ));
                    }
                    self.fragments.push(name);
                    let on = fragment.node.type_condition.node.on.node.as_str();
                    let cost = self.selections(&fragment.node.selection_set.node, Some(on), depth);
                    self.fragments.pop();
                    cost?
                }
            };
            total = total.saturating_add(cost);
            if total > MAX_COMPLEXITY {
                return Err(Refusal::complexity());
            }
        }
        Ok(total)
    }

    fn field(&mut self, f: &'a Field, parent: Option<&'a str>, depth: usize) -> Result<u64, Refusal> {
        self.visited += 1;
        if self.visited > WALK_BUDGET {
            return Err(Refusal::complexity());
        }
        if f.alias.is_some() {
            self.aliases += 1;
            if self.aliases > MAX_ALIASES {
                return Err(Refusal::new(
                    "TOO_MANY_ALIASES",
                    format!("the query uses more than {MAX_ALIASES} aliases"),
                ));
            }
        }
        let name = f.name.node.as_str();
        let introspection = name.starts_with("__") || parent.is_some_and(|p| p.starts_with("__"));
        let depth = if introspection { depth } else { depth + 1 };
        if depth > MAX_DEPTH {
            return Err(Refusal::depth());
        }
        self.depth = self.depth.max(depth);
        let meta_ty = parent
            .and_then(|p| self.registry.types.get(p))
            .and_then(|t| match t {
                MetaType::Object { fields, .. } => fields.get(name),
                _ => None,
            })
            .map(|m| m.ty.as_str());
        let child = meta_ty.map(MetaTypeName::concrete_typename);
        let multiplier = self.multiplier(f, parent, meta_ty, child)?;
        let children = self.selections(&f.selection_set.node, child, depth)?;
        Ok(1u64.saturating_add(multiplier.saturating_mul(children)))
    }

    /// How many times the selection of `f` is resolved.
    fn multiplier(
        &self,
        f: &Field,
        parent: Option<&str>,
        meta_ty: Option<&str>,
        child: Option<&str>,
    ) -> Result<u64, Refusal> {
        if let Some(child) = child
            && (self.plan.types.iter().any(|t| child.strip_suffix("Connection") == Some(t.name.as_str()))
                || super::requests::CONNECTIONS.contains(&child))
        {
            let first = self.first(f);
            if first > MAX_FIRST {
                return Err(Refusal::new(
                    "FIRST_TOO_LARGE",
                    format!("`first` is {first}; a page holds at most {MAX_FIRST} entries"),
                ));
            }
            return Ok(u64::try_from(first).unwrap_or(0));
        }
        let is_list = meta_ty.is_some_and(|t| MetaTypeName::create(t).is_list());
        if !is_list {
            return Ok(1);
        }
        let Some(parent) = parent else { return Ok(DEFAULT_LIST) };
        if parent.starts_with("__") || parent.ends_with("Connection") {
            return Ok(1);
        }
        let field = self.plan.by_name(parent).and_then(|t| t.field_by_gql(f.name.node.as_str()));
        Ok(match field {
            Some(fp) if matches!(fp.shape, Shape::Reference { many: true, .. }) => {
                fp.field.max.filter(|m| *m >= 0.0).map_or(DEFAULT_LIST, |m| m as u64)
            }
            _ => DEFAULT_LIST,
        })
    }

    /// The `first` argument of a connection field: a literal, a variable, or the default.
    fn first(&self, f: &Field) -> i64 {
        let Some((_, value)) = f.arguments.iter().find(|(n, _)| n.node.as_str() == "first") else {
            return DEFAULT_FIRST;
        };
        let value = value.node.clone().into_const_with(|var| {
            Ok::<_, ()>(self.variables.get(&var).or_else(|| self.defaults.get(&var)).cloned().unwrap_or(Value::Null))
        });
        match value {
            Ok(Value::Number(n)) => n.as_i64().unwrap_or(i64::MAX),
            _ => DEFAULT_FIRST,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prescan_counts_brackets_outside_strings_and_comments() {
        assert!(prescan("{ a { b } }").is_ok());
        let deep = "{a".repeat(MAX_NESTING + 1);
        assert_eq!(prescan(&deep).map_err(|r| r.code), Err("DEPTH_LIMIT"));
        let quoted = format!("{{ a(s: \"{}\") }}", "{".repeat(500));
        assert!(prescan(&quoted).is_ok());
        let block = format!("{{ a(s: \"\"\"{}\"\"\") }}", "[".repeat(500));
        assert!(prescan(&block).is_ok());
        let comment = format!("# {}\n{{ a }}", "(".repeat(500));
        assert!(prescan(&comment).is_ok());
    }
}
